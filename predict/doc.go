// Package predict is client-side prediction and server-side input
// handling for a game whose server is authoritative.
//
// The client stamps each tick's input with a sequence number and the
// server time its screen showed (a replicate.Receiver's RenderTime, for
// lag compensation: package lagcomp), steps its own state at once with
// the game's own step function, and sends every tick a message that
// repeats the last few inputs (Predictor.AppendBatch), so that a lost
// datagram costs nothing. The server keeps each client's inputs in a
// small jitter buffer (Buffer) and applies them one per tick, in order,
// each exactly once: none in a tick the next has not come, two in a tick
// when the client has slack to give back, a missing one repeated,
// duplicates and late ones dropped, bounded whatever the client sends.
// It reports the last input it applied with
// the client's authoritative state (in the replication stream: the
// snapshot's data, replicate.Viewer.SetData), and the client reconciles
// (Predictor.Reconcile): it goes back to that state and replays the
// inputs the server has not applied yet. What the player sees moves from
// the old prediction to the new one over a short time (Config.Smooth),
// unless the correction is larger than Config.SnapOver.
//
// Predictor and Buffer are generic over the game's state and input
// types, and pure: they take the time as an argument and read no clock.
// Neither is safe for concurrent use.
package predict
