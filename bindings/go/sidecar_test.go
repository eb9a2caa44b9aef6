package meshlink_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

// repo is the MeshLink repository root (bindings/go is two levels down).
var repo, _ = filepath.Abs(filepath.Join("..", ".."))

// sidecar is one real `meshlink up --handshake` on loopback with mDNS off, started by PID.
type sidecar struct {
	cmd      *exec.Cmd
	info     meshlink.APIInfo
	stateDir string
	stderr   *os.File
	exited   chan struct{}
	exitCode int
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// startSidecar starts a sidecar with a fresh state dir; it is stopped (SIGTERM) and its dirs removed
// when the test ends.
func startSidecar(t testing.TB, name string) *sidecar {
	t.Helper()
	root := t.TempDir()
	s := &sidecar{stateDir: filepath.Join(root, "state"), exited: make(chan struct{})}
	node := envOr("MESHLINK_NODE", filepath.Join(repo, "node_modules", ".bin", "node"))
	bundle := envOr("MESHLINK_SIDECAR", filepath.Join(repo, "dist", "meshlink.mjs"))
	s.cmd = exec.Command(node, bundle, "up", "--handshake", "--state", s.stateDir, "--name", name,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--parent-pid", strconv.Itoa(os.Getpid()))
	var err error
	if s.stderr, err = os.Create(filepath.Join(root, "sidecar.stderr")); err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sidecar: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	go func() {
		_ = s.cmd.Wait()
		s.exitCode = s.cmd.ProcessState.ExitCode()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("sidecar exited before the handshake; stderr:\n%s", s.stderrTail())
		}
		if err := json.Unmarshal([]byte(line), &s.info); err != nil {
			t.Fatalf("handshake %q: %v", line, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("sidecar did not hand shake within 20 s; stderr:\n%s", s.stderrTail())
	}
	return s
}

func (s *sidecar) stderrTail() string {
	b, _ := os.ReadFile(s.stderr.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitExit waits for the process to exit by itself; false on timeout.
func (s *sidecar) waitExit(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *sidecar) stop(t testing.TB) {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		if !s.waitExit(10 * time.Second) {
			_ = s.cmd.Process.Kill()
			s.waitExit(5 * time.Second)
		}
	}
	_ = s.stderr.Close()
}

func (s *sidecar) connect(t testing.TB) *meshlink.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := meshlink.Connect(ctx, meshlink.WithStateDir(s.stateDir), meshlink.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitEvent reads events until one passes match; fails the test after d.
func waitEvent(t testing.TB, sub *meshlink.Subscription, d time.Duration, what string, match func(meshlink.Event) bool) meshlink.Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription ended (%v) while waiting for %s", sub.Err(), what)
			}
			if match(e) {
				return e
			}
		case <-timer.C:
			t.Fatalf("no %s within %s", what, d)
		}
	}
}

var _ = fmt.Sprintf

// waitForService polls until c lists another member's service called name (bounded by 15 s).
func waitForService(ctx context.Context, t *testing.T, c *meshlink.Client, name string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		svcs, err := c.Services(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs.Services {
			if s.Name == name && !s.Mine {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %q never appeared", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
