package meshlink_test

import (
	"context"
	"encoding/json"
	"errors"
	"go/format"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/go-zeromq/zmq4"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func TestClient(t *testing.T) {
	s := startSidecar(t, "gotest")
	c := s.connect(t)
	ctx := ctxT(t, 30*time.Second)

	t.Run("status is typed", func(t *testing.T) {
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.PeerID != s.info.PeerID || st.Name != "gotest" || st.ProtocolVersion != 1 || st.MDNS || st.PID != int64(s.cmd.Process.Pid) {
			t.Fatalf("status %+v", st)
		}
		if !st.Mesh.Personal || st.Mesh.CreatedAt.IsZero() || len(st.ListenAddrs) == 0 {
			t.Fatalf("mesh %+v addrs %v", st.Mesh, st.ListenAddrs)
		}
	})

	t.Run("finds the sidecar from MESHLINK_STATE", func(t *testing.T) {
		t.Setenv("MESHLINK_STATE", s.stateDir)
		c2, err := meshlink.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		peers, err := c2.Peers(ctx)
		if err != nil || len(peers.Peers) != 0 {
			t.Fatalf("%v %v", peers, err)
		}
	})

	t.Run("errors per code with errors.Is and errors.As", func(t *testing.T) {
		_, err := c.SetName(ctx, meshlink.NodeSetNameParams{Name: ""})
		var e *meshlink.Error
		if !errors.Is(err, meshlink.ErrInvalidParams) || !errors.As(err, &e) || e.Data["path"] != "/params/name" || e.Method != "node.setName" {
			t.Fatalf("%#v", err)
		}
		if errors.Is(err, meshlink.ErrNotFound) {
			t.Fatal("INVALID_PARAMS is not NOT_FOUND")
		}
		if err := c.Call(ctx, "node.explode", nil, nil); !errors.Is(err, meshlink.ErrMethodNotFound) {
			t.Fatal(err)
		}
		if _, err := c.PeersPing(ctx, meshlink.PeersPingParams{Peer: "12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc"}); !errors.Is(err, meshlink.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := c.MeshJoin(ctx, meshlink.MeshJoinParams{Code: "hello"}); !errors.Is(err, meshlink.ErrorCodeInvalidInvite) {
			t.Fatal(err)
		}
		bad := s.info
		bad.Token = "wrong"
		c3, err := meshlink.Connect(ctx, meshlink.WithAPIInfo(bad))
		if err != nil {
			t.Fatal(err)
		}
		defer c3.Close()
		if _, err := c3.Status(ctx); !errors.Is(err, meshlink.ErrUnauthorized) {
			t.Fatal(err)
		}
	})

	t.Run("optional params are left out", func(t *testing.T) {
		svc, err := c.ServicesShare(ctx, meshlink.ServicesShareParams{Port: 8099})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Service.Name != "8099" || svc.Service.Allow != nil || svc.Service.Target == nil || *svc.Service.Target != "127.0.0.1:8099" {
			t.Fatalf("%+v", svc.Service)
		}
		if _, err := c.ServicesUnshare(ctx, meshlink.ServicesUnshareParams{Name: "8099"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent calls", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.Status(ctx)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("events typed and filtered", func(t *testing.T) {
		sub, err := c.Events(ctx, "node.")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		peersOnly, err := c.Events(ctx, "peer.")
		if err != nil {
			t.Fatal(err)
		}
		defer peersOnly.Close()
		time.Sleep(200 * time.Millisecond)
		if _, err := c.SetName(ctx, meshlink.NodeSetNameParams{Name: "evented"}); err != nil {
			t.Fatal(err)
		}
		e := waitEvent(t, sub, 5*time.Second, "node.name", func(e meshlink.Event) bool { return e.Name == "node.name" })
		if d, ok := e.Data.(*meshlink.NodeNameEvent); !ok || d.Name != "evented" || e.Seq < 1 || e.Missed != 0 || e.Time.IsZero() {
			t.Fatalf("%#v", e)
		}
		select {
		case e := <-peersOnly.C():
			t.Fatalf("a peer. subscription got %s", e.Name)
		case <-time.After(300 * time.Millisecond):
		}
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-sub.C(); ok {
			t.Fatal("the channel stays open after Close")
		}
		if !errors.Is(sub.Err(), meshlink.ErrClosed) {
			t.Fatal(sub.Err())
		}
		_, _ = c.SetName(ctx, meshlink.NodeSetNameParams{Name: "gotest"})
	})
}

func TestNoSidecar(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t, 10*time.Second)
	if _, err := meshlink.Connect(ctx, meshlink.WithStateDir(dir)); !errors.Is(err, meshlink.ErrSidecarNotRunning) {
		t.Fatal(err)
	}
	stale, _ := json.Marshal(map[string]any{"pid": 1 << 22, "router": "ipc:///nope", "events": "ipc:///nope", "token": "t"})
	_ = os.WriteFile(filepath.Join(dir, "api.json"), stale, 0o600)
	if _, err := meshlink.Connect(ctx, meshlink.WithStateDir(dir)); !errors.Is(err, meshlink.ErrSidecarNotRunning) || !strings.Contains(err.Error(), "stale") {
		t.Fatal(err)
	}
}

// lateRouter answers request n after delays[n] (negative: never).
func lateRouter(t *testing.T, delays []time.Duration) string {
	ep := "ipc://" + filepath.Join(t.TempDir(), "late.sock")
	ctx, cancel := context.WithCancel(context.Background())
	r := zmq4.NewRouter(ctx)
	if err := r.Listen(ep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = r.Close() })
	var mu sync.Mutex
	go func() {
		for n := 0; ; n++ {
			m, err := r.Recv()
			if err != nil {
				return
			}
			var req struct{ ID int64 }
			_ = json.Unmarshal(m.Frames[len(m.Frames)-1], &req)
			d := time.Duration(0)
			if n < len(delays) {
				d = delays[n]
			}
			if d < 0 {
				continue
			}
			rid := m.Frames[0]
			time.AfterFunc(d, func() {
				body, _ := json.Marshal(map[string]any{"v": 1, "id": req.ID, "result": map[string]any{"name": "r" + string(rune('0'+req.ID))}})
				mu.Lock()
				defer mu.Unlock()
				_ = r.Send(zmq4.NewMsgFrom(rid, body))
			})
		}
	}()
	return ep
}

func TestTimeoutCancellationAndLateReplies(t *testing.T) {
	ep := lateRouter(t, []time.Duration{500 * time.Millisecond, -1, 0})
	ctx := ctxT(t, 10*time.Second)
	c, err := meshlink.Connect(ctx, meshlink.WithAPIInfo(meshlink.APIInfo{Router: ep, Events: ep, Token: "t"}), meshlink.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := c.SetName(short, meshlink.NodeSetNameParams{Name: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if time.Since(t0) > 400*time.Millisecond {
		t.Fatal("the deadline was not honoured")
	}
	cctx, ccancel := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); ccancel() }()
	if _, err := c.Status(cctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // the late answer to request 1 arrives before request 3's
	r, err := c.SetName(ctx, meshlink.NodeSetNameParams{Name: "y"})
	if err != nil || r.Name != "r3" {
		t.Fatalf("%v %v", r, err)
	}
	_ = c.Close()
	if _, err := c.Status(ctx); !errors.Is(err, meshlink.ErrClosed) {
		t.Fatal(err)
	}
}

// A call whose context has no deadline is bounded by WithTimeout (a pooled timer), and the client
// goes on working after it.
func TestClientTimeoutWithoutDeadline(t *testing.T) {
	ep := lateRouter(t, []time.Duration{-1, 0})
	c, err := meshlink.Connect(ctxT(t, 10*time.Second), meshlink.WithAPIInfo(meshlink.APIInfo{Router: ep, Events: ep, Token: "t"}), meshlink.WithTimeout(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.Now()
	if _, err := c.Status(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("timed out after %s", d)
	}
	for i := 0; i < 3; i++ { // pooled timers and reply channels are reused cleanly
		if r, err := c.SetName(context.Background(), meshlink.NodeSetNameParams{Name: "y"}); err != nil || r.Name != "r"+string(rune('2'+i)) {
			t.Fatalf("%v %v", r, err)
		}
	}
}

func TestEveryMethodHasAClientMethod(t *testing.T) {
	ct := reflect.TypeOf(&meshlink.Client{})
	for _, m := range meshlink.Methods {
		group, verb, _ := strings.Cut(m, ".")
		name := group + "." + verb
		switch {
		case group == "node":
			name = verb
		case verb == "list":
			name = group
		}
		var b strings.Builder
		up := true
		for _, r := range name {
			if r == '.' {
				up = true
				continue
			}
			if up {
				r = unicode.ToUpper(r)
				up = false
			}
			b.WriteRune(r)
		}
		if _, ok := ct.MethodByName(b.String()); !ok {
			t.Errorf("%s: no Client.%s", m, b.String())
		}
		if meshlink.NewResult(m) == nil {
			t.Errorf("%s: no result type", m)
		}
	}
}

func TestGeneratedFilesAreGofmted(t *testing.T) {
	files, _ := filepath.Glob("*_gen.go")
	if len(files) < 4 {
		t.Fatalf("generated files: %v", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		out, err := format.Source(b)
		if err != nil || string(out) != string(b) {
			t.Errorf("%s is not gofmt-clean (%v): fix bindings/gen/emit-go.mjs", f, err)
		}
	}
}
