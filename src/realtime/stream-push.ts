/**
 * Push delivery beside async iteration. A subscription's events climb a chain of async iterators
 * (the store's subscriber → runEvents → shared execution → the transport), a few promise turns
 * per layer, per subscriber and per event: with 500 subscribers of one run that chain cost more
 * than the socket writes. While the whole chain is parked on a next() that is waiting for an
 * event, a layer may instead hand the event up synchronously, through the sink the layer above
 * gave it (`[PUSH]`). A sink returns false when it cannot take the value now (a value is still
 * on its way up the pull path, a gap or a ping must go first, the client reads too slowly…); the
 * value then takes the pull path as before. So a value is pushed only when nothing is in flight
 * between the layers, and the order is the pull path's.
 */

export const PUSH = Symbol('push');

/** Takes a value at once (true), or refuses it (false): the value then goes through next(). */
export type PushSink<T> = (value: T) => boolean;

export interface Pushable<T> {
  [PUSH](sink: PushSink<T>): void;
}

/** Gives `sink` to `iterator` if it can push; otherwise (or for anything else) nothing happens. */
export function pushTo<T>(iterator: unknown, sink: PushSink<T>): void {
  if (iterator && typeof iterator === 'object' && PUSH in iterator) (iterator as Pushable<T>)[PUSH](sink);
}

/** A sink the layer above may give later; refuses until then. */
export class PushPort<T> implements Pushable<T> {
  private sink: PushSink<T> | undefined;

  [PUSH](sink: PushSink<T>): void {
    this.sink = sink;
  }

  offer(value: T): boolean {
    return this.sink !== undefined && this.sink(value);
  }
}
