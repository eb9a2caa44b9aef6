package meshlink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// APIInfo is what a running sidecar wrote to <state dir>/api.json (and printed as its --handshake line).
type APIInfo struct {
	V               int    `json:"v"`
	PID             int    `json:"pid"`
	Version         string `json:"version"`
	ProtocolVersion int    `json:"protocolVersion"`
	// Router is the ZeroMQ endpoint of the request ROUTER (ipc://...; tcp://127.0.0.1:... on Windows).
	Router string `json:"router"`
	// Events is the ZeroMQ endpoint of the event PUB socket.
	Events string `json:"events"`
	// Token is sent with every request.
	Token     string `json:"token"`
	PeerID    string `json:"peerId"`
	StateDir  string `json:"stateDir"`
	StartedAt string `json:"startedAt"`
}

// DefaultStateDir is the platform default: $XDG_STATE_HOME/meshlink or ~/.local/state/meshlink
// (Linux), ~/Library/Application Support/MeshLink (macOS), %LOCALAPPDATA%\MeshLink (Windows).
func DefaultStateDir() string {
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "MeshLink")
		}
		return filepath.Join(home, "AppData", "Local", "MeshLink")
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "MeshLink")
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "meshlink")
	}
	return filepath.Join(home, ".local", "state", "meshlink")
}

// ResolveStateDir returns dir, else $MESHLINK_STATE, else DefaultStateDir() (the sidecar's own order).
func ResolveStateDir(dir string) string {
	if dir != "" {
		return dir
	}
	if env := os.Getenv("MESHLINK_STATE"); env != "" {
		return env
	}
	return DefaultStateDir()
}

// ReadAPIInfo reads api.json of the sidecar for stateDir ("" resolves as ResolveStateDir) and checks
// that its process is alive; errors wrap ErrSidecarNotRunning.
func ReadAPIInfo(stateDir string) (*APIInfo, error) {
	dir := ResolveStateDir(stateDir)
	path := filepath.Join(dir, "api.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w for %s (no %s); start one with `meshlink up --state %s`", ErrSidecarNotRunning, dir, path, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSidecarNotRunning, err)
	}
	var info APIInfo
	if err := json.Unmarshal(b, &info); err != nil || info.Router == "" || info.Token == "" {
		return nil, fmt.Errorf("%w: %s is not a sidecar's api.json", ErrSidecarNotRunning, path)
	}
	if !alive(info.PID) {
		return nil, fmt.Errorf("%w: %s is stale: process %d is not running", ErrSidecarNotRunning, path, info.PID)
	}
	return &info, nil
}

func alive(pid int) bool {
	if pid <= 0 || runtime.GOOS == "windows" {
		return true // nothing cheap to check there; a dead sidecar shows as a timeout instead
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
