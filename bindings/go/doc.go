// Package meshlink is a thin, typed Go client of the MeshLink sidecar's control protocol: JSON
// messages over ZeroMQ (schemas/PROTOCOL.md in the MeshLink repository).
//
// A request is one frame {"v":1,"id":N,"token":T,"method":M,"params":{...}} sent by a DEALER socket
// to the sidecar's ROUTER; the reply {"v":1,"id":N,"result":{...}} or {"v":1,"id":N,"error":{code,
// message,data}} may come back in any order and is matched by id. Events arrive on a PUB socket as
// two frames [topic, {"v":1,"event","seq","time","data"}]. Both endpoints and the token are in
// <state dir>/api.json, which Connect reads.
//
//	c, err := meshlink.Connect(ctx, meshlink.WithStateDir(dir)) // or $MESHLINK_STATE, or the default
//	peers, err := c.Peers(ctx)
//	if errors.Is(err, meshlink.ErrNotReady) { ... }
//
// The structs (models_gen.go), one method per protocol method (methods_gen.go), the error codes
// (errors_gen.go) and the event decoder (events_gen.go) are generated from the JSON Schemas by
// bindings/gen/gen-bindings.mjs; never edit them by hand.
package meshlink
