package meshlink_test

import (
	"bufio"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func buildExample(t *testing.T, name string) string {
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/"+name).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	return bin
}

func TestExamples(t *testing.T) {
	s := startSidecar(t, "examples")
	out, err := exec.Command(buildExample(t, "list-peers"), s.stateDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "examples in mesh") {
		t.Fatalf("list-peers: %v\n%s", err, out)
	}
	cmd := exec.Command(buildExample(t, "list-peers"), t.TempDir())
	if out, err := cmd.CombinedOutput(); cmd.ProcessState.ExitCode() != 3 || !strings.Contains(string(out), "no sidecar") {
		t.Fatalf("list-peers without a sidecar: %v\n%s", err, out)
	}
	sharePort := buildExample(t, "share-port") // before the port is picked: the example listens on it, which another process could take meanwhile
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	out, err = exec.Command(sharePort, "-port", strconv.Itoa(port), "-name", "demo", "-state", s.stateDir, "-for", "1s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sharing demo") || !strings.Contains(string(out), "stopped sharing demo") {
		t.Fatalf("share-port: %v\n%s", err, out)
	}
}

// lineReader collects a child process's stdout lines; wait returns the first line containing text.
type lineReader struct {
	lines chan string
	seen  []string
}

func startExample(t *testing.T, bin string, args ...string) (*exec.Cmd, *lineReader) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(bin), stderr.String())
		}
	})
	r := &lineReader{lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	return cmd, r
}

// exit reads the rest of the output (exec: Wait only after the pipe's reads are done), then waits.
func (r *lineReader) exit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	for line := range r.lines {
		r.seen = append(r.seen, line)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Path), err, strings.Join(r.seen, "\n"))
	}
}

func (r *lineReader) wait(t *testing.T, text string, d time.Duration) string {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				t.Fatalf("output ended without %q:\n%s", text, strings.Join(r.seen, "\n"))
			}
			r.seen = append(r.seen, line)
			if strings.Contains(line, text) {
				return line
			}
		case <-timer.C:
			t.Fatalf("no line with %q within %s:\n%s", text, d, strings.Join(r.seen, "\n"))
		}
	}
}

// joinMesh makes bob join alice's mesh and waits until they are connected.
func joinMesh(t *testing.T, aliceSc, bobSc *sidecar) (alice, bob *meshlink.Client) {
	t.Helper()
	alice, bob = aliceSc.connect(t), bobSc.connect(t)
	ctx := ctxT(t, 30*time.Second)
	ev, err := bob.Events(ctx, "peer.")
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	time.Sleep(200 * time.Millisecond)
	inv, err := alice.MeshInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.MeshJoin(ctx, meshlink.MeshJoinParams{Code: inv.Code}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ev, 15*time.Second, "peer.connected", func(e meshlink.Event) bool {
		d, ok := e.Data.(*meshlink.PeerConnectedEvent)
		return ok && d.Peer.ID == aliceSc.info.PeerID
	})
	return alice, bob
}

// The examples that need a teammate: share-port names the member who connects, publish-wait sees
// the member's fetch complete.
func TestExamplesTwoMembers(t *testing.T) {
	aliceSc, bobSc := startSidecar(t, "alice"), startSidecar(t, "bob")
	_, bob := joinMesh(t, aliceSc, bobSc)
	ctx := ctxT(t, 120*time.Second)

	t.Run("share-port", func(t *testing.T) {
		sharePort := buildExample(t, "share-port") // before the port is picked (as in TestExamples)
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cmd, out := startExample(t, sharePort, "-port", strconv.Itoa(port), "-name", "greet", "-state", aliceSc.stateDir, "-for", "60s")
		out.wait(t, "sharing greet", 15*time.Second)
		waitForService(ctx, t, bob, "greet")
		zero := int64(0)
		fwd, err := bob.ForwardsOpen(ctx, meshlink.ForwardsOpenParams{Peer: aliceSc.info.PeerID, Service: "greet", Port: &zero})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(fwd.Forward.LocalPort)), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		greeting, err := bufio.NewReader(conn).ReadString('\n')
		_ = conn.Close()
		if err != nil || greeting != "hello from the mesh\n" {
			t.Fatalf("%q %v", greeting, err)
		}
		if line := out.wait(t, "connected to greet", 15*time.Second); !strings.HasPrefix(line, "bob ("+bobSc.info.PeerID+")") {
			t.Fatalf("connected line: %q", line)
		}
		_, _ = bob.ForwardsClose(ctx, meshlink.ForwardsCloseParams{ID: fwd.Forward.ID})
		_ = cmd.Process.Signal(os.Interrupt)
		out.wait(t, "stopped sharing greet", 15*time.Second)
		out.exit(t, cmd)
	})

	t.Run("publish-wait", func(t *testing.T) {
		dir := t.TempDir()
		tree := filepath.Join(dir, "site")
		if err := os.MkdirAll(filepath.Join(tree, "assets"), 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(tree, "index.html"), []byte("<h1>hello</h1>\n"), 0o644)
		data := make([]byte, 300_000)
		_, _ = rand.Read(data)
		_ = os.WriteFile(filepath.Join(tree, "assets", "data.bin"), data, 0o644)
		cmd, out := startExample(t, buildExample(t, "publish-wait"), "-path", tree, "-tag", "go-example", "-state", aliceSc.stateDir, "-timeout", "60s")
		line := out.wait(t, "published ", 30*time.Second)
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields[1]) != 64 {
			t.Fatalf("published line: %q", line)
		}
		id := fields[1]
		ev, err := bob.Events(ctx, "transfer.")
		if err != nil {
			t.Fatal(err)
		}
		defer ev.Close()
		for deadline := time.Now().Add(15 * time.Second); ; {
			list, err := bob.Artifacts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range list.Artifacts {
				found = found || a.ID == id
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("bob never saw alice's artifact")
			}
			time.Sleep(100 * time.Millisecond)
		}
		fetched := filepath.Join(dir, "fetched")
		fetch, err := bob.ArtifactsFetch(ctx, meshlink.ArtifactsFetchParams{Artifact: id, Out: fetched})
		if err != nil {
			t.Fatal(err)
		}
		e := waitEvent(t, ev, 30*time.Second, "transfer.done", func(e meshlink.Event) bool {
			switch d := e.Data.(type) {
			case *meshlink.TransferDoneEvent:
				return d.Transfer.ID == fetch.Transfer.ID
			case *meshlink.TransferFailedEvent:
				return d.Transfer.ID == fetch.Transfer.ID
			}
			return false
		})
		if d, ok := e.Data.(*meshlink.TransferFailedEvent); ok {
			t.Fatalf("fetch failed: %+v", d.Transfer.Error)
		}
		if b, err := os.ReadFile(filepath.Join(fetched, "index.html")); err != nil || string(b) != "<h1>hello</h1>\n" {
			t.Fatalf("%q %v", b, err)
		}
		if line := out.wait(t, "fetched by ", 30*time.Second); line != "fetched by bob ("+bobSc.info.PeerID+")" {
			t.Fatalf("fetched line: %q", line)
		}
		out.exit(t, cmd)
	})
}
