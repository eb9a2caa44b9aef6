package meshlink

// In-process benchmarks of the request path, to separate the binding's own cost from the sidecar's:
// a go-zeromq ROUTER in this process answers every request with a real node.status reply.
//   go test -run '^$' -bench RoundTrip -benchmem
// BenchmarkRoundTripBare is the baseline of bench/bindings (a DEALER doing Marshal/Send/Recv/Unmarshal).

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-zeromq/zmq4"
)

const statusResult = `{"peerId":"12D3KooWCHTxQ467q8mgFxmJmEQqKVv24K3Kxwvt8AbCJZ97Vn2m","name":"alice","mesh":{"id":"fd48e5a6adc8ec2b","name":"alice's mesh","personal":true,"createdAt":"2026-11-24T05:04:37.873Z"},"listenAddrs":["/ip4/127.0.0.1/tcp/39193/p2p/12D3KooWCHTxQ467q8mgFxmJmEQqKVv24K3Kxwvt8AbCJZ97Vn2m"],"observedAddrs":[],"version":"0.1.0","protocolVersion":1,"uptimeMs":358,"pid":16509,"stateDir":"/tmp/ml-py-uoc0t0ny/state","mdns":false,"peersConnected":0}`

// echoRouter answers each request {id} with {"v":1,"id":id,"result":statusResult}.
func echoRouter(b *testing.B) string {
	ep := "ipc://" + filepath.Join(b.TempDir(), "r.sock")
	ctx, cancel := context.WithCancel(context.Background())
	r := zmq4.NewRouter(ctx)
	if err := r.Listen(ep); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = r.Close() })
	go func() {
		for {
			m, err := r.Recv()
			if err != nil {
				return
			}
			var req struct {
				ID json.RawMessage `json:"id"`
			}
			_ = json.Unmarshal(m.Frames[len(m.Frames)-1], &req)
			body := []byte(`{"v":1,"id":` + string(req.ID) + `,"result":` + statusResult + `}`)
			if err := r.Send(zmq4.NewMsgFrom(m.Frames[0], body)); err != nil {
				return
			}
		}
	}()
	return ep
}

func BenchmarkRoundTripClient(b *testing.B) {
	ep := echoRouter(b)
	ctx := context.Background()
	c, err := Connect(ctx, WithAPIInfo(APIInfo{Router: ep, Events: ep, Token: "t"}))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRoundTripBare(b *testing.B) {
	ep := echoRouter(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := zmq4.NewDealer(ctx)
	defer d.Close()
	if err := d.Dial(ep); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, _ := json.Marshal(map[string]any{"v": 1, "id": i, "token": "t", "method": "node.status", "params": map[string]any{}})
		if err := d.Send(zmq4.NewMsg(body)); err != nil {
			b.Fatal(err)
		}
		m, err := d.Recv()
		if err != nil {
			b.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(m.Frames[len(m.Frames)-1], &r); err != nil || r["id"] != float64(i) {
			b.Fatal(err, strconv.Itoa(i))
		}
	}
}

// BenchmarkCodecClient is the binding's own CPU per call without sockets: the envelope, the reply's
// envelope decode (the reader) and the typed decode of a node.status result.
func BenchmarkCodecClient(b *testing.B) {
	c := &Client{envPrefix: []byte(`,"token":"t","method":`)}
	frame := []byte(`{"v":1,"id":1,"result":` + statusResult + `}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.encode(int64(i), "node.status", nil); err != nil {
			b.Fatal(err)
		}
		var r reply
		if err := json.Unmarshal(frame, &r); err != nil {
			b.Fatal(err)
		}
		var res NodeStatusResult
		if err := json.Unmarshal(r.Result, &res); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecBare is the same for the bare baseline (map-based JSON).
func BenchmarkCodecBare(b *testing.B) {
	frame := []byte(`{"v":1,"id":1,"result":` + statusResult + `}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(map[string]any{"v": 1, "id": i, "token": "t", "method": "node.status", "params": map[string]any{}}); err != nil {
			b.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(frame, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripBareHop is the bare DEALER with the binding's one structural extra: replies
// reach the caller from a reader goroutine over a channel (go-zeromq's Recv ignores contexts, so a
// call that must honour its ctx cannot sit in Recv itself).
func BenchmarkRoundTripBareHop(b *testing.B) {
	ep := echoRouter(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := zmq4.NewDealer(ctx)
	defer d.Close()
	if err := d.Dial(ep); err != nil {
		b.Fatal(err)
	}
	replies := make(chan zmq4.Msg, 1)
	go func() {
		for {
			m, err := d.Recv()
			if err != nil {
				close(replies)
				return
			}
			replies <- m
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, _ := json.Marshal(map[string]any{"v": 1, "id": i, "token": "t", "method": "node.status", "params": map[string]any{}})
		if err := d.Send(zmq4.NewMsg(body)); err != nil {
			b.Fatal(err)
		}
		m := <-replies
		var r map[string]any
		if err := json.Unmarshal(m.Frames[len(m.Frames)-1], &r); err != nil || r["id"] != float64(i) {
			b.Fatal(err, strconv.Itoa(i))
		}
	}
}
