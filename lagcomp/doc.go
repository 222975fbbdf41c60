// Package lagcomp is server-side lag compensation: a bounded history of
// where the game's entities were, with their hit shapes, and a rewind
// that tests a shot against the world as the shooter saw it.
//
// A client draws the other entities in the past, interpolated between
// snapshots (replicate.Receiver's render time), and predicts its own
// state ahead. When it fires a hitscan weapon, the target it aimed at
// was where the server had it at that render time, which the client sends
// with its input (predict.Input.View). The server records its entities
// every tick (History.Record), and judges the shot against the world
// rewound to that time (History.Rewind, then Rewind.Raycast), capped
// (Config.MaxRewind, 200 ms by default) so that a client with a long
// round trip, or one that lies about its time, cannot shoot into the far
// past. The game chooses what it records: the players it may hit, say,
// and not the scenery that hardly moves.
//
// Times are the game's server time as a time.Duration (the replicator's
// clock: replicate.Receiver.RenderTime on the client). History is pure
// and not safe for concurrent use.
package lagcomp
