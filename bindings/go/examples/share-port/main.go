// Command share-port shares a local TCP port with the mesh and prints who connects:
//
//	go run ./examples/share-port -port 3000 [-name web] [-state DIR] [-for 1h]
//
// It serves a tiny greeting on the port itself (so the example is self-contained; share your dev
// server's port instead), prints the member behind each accepted connection (service.connected,
// named through Peers) and each member the sidecar refused (service.refused), and unshares on exit
// (Ctrl-C or -for). A teammate opens it with `meshlink open <your name> web` (or Client.ForwardsOpen).
// Carried connections reach the port from the sidecar (127.0.0.1), so the member is known only from
// the event, not from the socket.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func main() {
	port := flag.Int("port", 0, "local TCP port to share")
	name := flag.String("name", "", "service name (default: the port)")
	state := flag.String("state", "", "sidecar state dir")
	dur := flag.Duration("for", time.Hour, "how long to share (bounded)")
	flag.Parse()
	if *port <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
	if err != nil {
		fail(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("hello from the mesh\n"))
			_ = conn.Close()
		}
	}()
	c, err := meshlink.Connect(ctx, meshlink.WithStateDir(*state))
	if err != nil {
		fail(err)
	}
	defer c.Close()
	events, err := c.Events(ctx, "service.")
	if err != nil {
		fail(err)
	}
	defer events.Close()
	p := meshlink.ServicesShareParams{Port: int64(*port)}
	if *name != "" {
		p.Name = name
	}
	svc, err := c.ServicesShare(ctx, p)
	if err != nil {
		fail(err)
	}
	fmt.Printf("sharing %s (%s:%d)\n", svc.Service.Name, "127.0.0.1", svc.Service.Port)
	for e := range events.C() {
		switch d := e.Data.(type) {
		case *meshlink.ServiceConnectedEvent:
			if d.Service == svc.Service.Name {
				fmt.Printf("%s connected to %s\n", memberName(ctx, c, d.Peer), d.Service)
			}
		case *meshlink.ServiceRefusedEvent:
			if d.Service == svc.Service.Name {
				fmt.Printf("refused %s: %s\n", memberName(ctx, c, d.Peer), d.Reason)
			}
		}
	}
	uctx, ucancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ucancel()
	if _, err := c.ServicesUnshare(uctx, meshlink.ServicesUnshareParams{Name: svc.Service.Name}); err != nil {
		fail(err)
	}
	fmt.Printf("stopped sharing %s\n", svc.Service.Name)
}

// memberName is the member's display name (from Peers) with its id, else its id.
func memberName(ctx context.Context, c *meshlink.Client, id string) string {
	peers, err := c.Peers(ctx)
	if err != nil {
		return id
	}
	for _, p := range peers.Peers {
		if p.ID == id && p.Name != nil {
			return fmt.Sprintf("%s (%s)", *p.Name, id)
		}
	}
	return id
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
