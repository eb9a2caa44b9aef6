package meshlink_test

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	out, err = exec.Command(buildExample(t, "share-port"), "-port", strconv.Itoa(port), "-name", "demo", "-state", s.stateDir, "-for", "1s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sharing demo") || !strings.Contains(string(out), "stopped sharing demo") {
		t.Fatalf("share-port: %v\n%s", err, out)
	}
}
