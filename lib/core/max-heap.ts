/**
 * A binary max-heap of numbers in a plain array: the priorities of a wait queue's levels.
 *
 * @module
 */

/** Adds `value` to the max-heap `heap`. O(log n). */
export function pushHeap(heap: number[], value: number): void {
  let index = heap.length;
  heap.push(value);
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if ((heap[parent] as number) >= value) break;
    heap[index] = heap[parent] as number;
    index = parent;
  }
  heap[index] = value;
}

/** Removes the largest value of the non-empty max-heap `heap`. O(log n). */
export function popHeap(heap: number[]): void {
  const last = heap.pop() as number;
  if (heap.length === 0) return;
  let index = 0;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= heap.length) break;
    if (child + 1 < heap.length && (heap[child + 1] as number) > (heap[child] as number)) child++;
    if ((heap[child] as number) <= last) break;
    heap[index] = heap[child] as number;
    index = child;
  }
  heap[index] = last;
}
