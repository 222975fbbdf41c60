// Package replicate sends a game's world to its clients: each client gets
// what it can see, the most important first, in a few bytes, and shows
// it smoothly. It rides on the messages of a server.Peer and a
// client.Client, so the protocol and the Python original are untouched.
//
// On the server, a game declares its kinds of entity (NewSchema) with
// their fields and precision, spawns entities in a Replicator and sets
// their fields as its simulation runs; each client is a Viewer with a view
// area. Replicator.Update, called from the handler's Update, sends each
// client a snapshot at the snapshot rate:
//
//   - interest: only the entities in the client's view (a grid finds
//     them), of global kinds, or marked relevant to it, and that the
//     game's Filter lets through; an entity entering is sent whole, one
//     leaving or destroyed is removed, both until acknowledged;
//   - budget: at most Config.Budget bits a second per client, one datagram
//     a snapshot, filled with the entities that waited longest, weighted
//     by their kind's priority and nearness, so that none starves;
//   - deltas: an entity goes as the fields that changed since the newest
//     state of it the client acknowledged (the protocol's per-packet
//     acks), never against one it may not have; an entity moving along
//     its velocity is not sent at all until it strays (dead reckoning).
//
// The work for all clients is spread over Config.Workers goroutines and
// allocates nothing in a steady state; what one client makes the server
// hold is bounded (Config.MaxView entries, a fixed circle of records).
//
// On the client, a Receiver takes the snapshot messages (Handle) and
// shows every entity at a render time a little in the past (Advance),
// interpolated between states, carried along its velocity when the newest
// is late; its delay follows the measured jitter. Both the Receiver and
// the Viewer's Data carry what the game needs beside the world.
//
// Both ends must build the schema from the same kinds in the same order.
package replicate
