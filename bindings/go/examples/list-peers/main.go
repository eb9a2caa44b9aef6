// Command list-peers prints the mesh's members: go run ./examples/list-peers [STATE_DIR]
// (default: $MESHLINK_STATE or the default state dir).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := ""
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	c, err := meshlink.Connect(ctx, meshlink.WithStateDir(dir))
	if errors.Is(err, meshlink.ErrSidecarNotRunning) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s in mesh %q (%s)\n", st.Name, st.Mesh.Name, st.Mesh.ID)
	peers, err := c.Peers(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range peers.Peers {
		name, state, rtt := "?", "offline", ""
		if p.Name != nil {
			name = *p.Name
		}
		if p.Connected && p.Connection != nil {
			state = "online, " + string(*p.Connection)
		}
		if p.RTTMs != nil {
			rtt = fmt.Sprintf(", %.1f ms", *p.RTTMs)
		}
		fmt.Printf("  %-20s %s  %s%s\n", name, p.ID, state, rtt)
	}
}
