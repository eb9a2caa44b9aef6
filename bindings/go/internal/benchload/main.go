// Command benchload is one measuring client process for `npm run bench:bindings` (Go side), like
// bench/api/dealer-load.ts: a warm-up, then sequential node.status round trips for a bounded time;
// prints one JSON line. via "client": the binding (Client.Status: framing, id matching, typed struct);
// via "dealer": a bare go-zeromq DEALER doing json.Marshal / Send / Recv / json.Unmarshal (the baseline).
// Usage: benchload '<json {endpoint, token, method, via, warmup, latSecs}>'
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/go-zeromq/zmq4"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

type options struct {
	Endpoint string  `json:"endpoint"`
	Token    string  `json:"token"`
	Method   string  `json:"method"`
	Via      string  `json:"via"`
	Warmup   int     `json:"warmup"`
	LatSecs  float64 `json:"latSecs"`
}

const maxSeq = 200_000

func main() {
	var o options
	if err := json.Unmarshal([]byte(os.Args[1]), &o); err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.LatSecs*float64(time.Second))+2*time.Minute)
	defer cancel()
	var roundTrip func() error
	if o.Via == "client" {
		c, err := meshlink.Connect(ctx, meshlink.WithAPIInfo(meshlink.APIInfo{Router: o.Endpoint, Events: o.Endpoint, Token: o.Token}), meshlink.WithTimeout(10*time.Second))
		if err != nil {
			fail(err)
		}
		defer c.Close()
		roundTrip = func() error { _, err := c.Status(ctx); return err }
	} else {
		d := zmq4.NewDealer(ctx)
		defer d.Close()
		if err := d.Dial(o.Endpoint); err != nil {
			fail(err)
		}
		var id int64
		roundTrip = func() error {
			id++
			body, _ := json.Marshal(map[string]any{"v": 1, "id": id, "token": o.Token, "method": o.Method, "params": map[string]any{}})
			if err := d.Send(zmq4.NewMsg(body)); err != nil {
				return err
			}
			m, err := d.Recv()
			if err != nil {
				return err
			}
			var r map[string]any
			if err := json.Unmarshal(m.Frames[len(m.Frames)-1], &r); err != nil {
				return err
			}
			if _, ok := r["result"]; !ok || r["id"] != float64(id) {
				return fmt.Errorf("bad reply %v", r)
			}
			return nil
		}
	}
	for i := 0; i < o.Warmup; i++ {
		if err := roundTrip(); err != nil {
			fail(err)
		}
	}
	lat := make([]float64, 0, 1<<14)
	t0 := time.Now()
	end := t0.Add(time.Duration(o.LatSecs * float64(time.Second)))
	for len(lat) < maxSeq && time.Now().Before(end) {
		s := time.Now()
		if err := roundTrip(); err != nil {
			fail(err)
		}
		lat = append(lat, float64(time.Since(s).Nanoseconds())/1000)
	}
	secs := time.Since(t0).Seconds()
	sort.Float64s(lat)
	pick := func(p float64) float64 { // nearest rank, as bench/lib/stats.ts
		i := int(p / 100 * float64(len(lat)))
		if i >= len(lat) {
			i = len(lat) - 1
		}
		return lat[i]
	}
	sum := 0.0
	for _, x := range lat {
		sum += x
	}
	out, _ := json.Marshal(map[string]any{"via": o.Via, "n": len(lat), "p50_us": pick(50), "p99_us": pick(99), "mean_us": sum / float64(len(lat)), "seq_rps": float64(len(lat)) / secs})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchload:", err)
	os.Exit(1)
}
