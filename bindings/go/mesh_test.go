package meshlink_test

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func echoServer(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.Copy(conn, conn)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// Two sidecars: join by invite, peer events, ping, a port shared by alice and forwarded by bob.
func TestTwoMembers(t *testing.T) {
	aliceSc, bobSc := startSidecar(t, "alice"), startSidecar(t, "bob")
	alice, bob := aliceSc.connect(t), bobSc.connect(t)
	ctx := ctxT(t, 60*time.Second)
	bobEvents, err := bob.Events(ctx, "peer.", "mesh.", "forward.")
	if err != nil {
		t.Fatal(err)
	}
	defer bobEvents.Close()
	time.Sleep(200 * time.Millisecond)

	inv, err := alice.MeshInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined, err := bob.MeshJoin(ctx, meshlink.MeshJoinParams{Code: inv.Code})
	if err != nil || !joined.Connected || joined.Inviter != aliceSc.info.PeerID || joined.Mesh.ID != inv.Mesh.ID {
		t.Fatalf("%+v %v", joined, err)
	}
	waitEvent(t, bobEvents, 10*time.Second, "mesh.changed", func(e meshlink.Event) bool {
		d, ok := e.Data.(*meshlink.MeshChangedEvent)
		return ok && d.Mesh.ID == inv.Mesh.ID
	})
	waitEvent(t, bobEvents, 15*time.Second, "peer.connected", func(e meshlink.Event) bool {
		d, ok := e.Data.(*meshlink.PeerConnectedEvent)
		return ok && d.Peer.ID == aliceSc.info.PeerID
	})
	// wait for the sidecar's own first ping: a peers.ping while it is in flight fails with
	// PEER_UNREACHABLE ("Too many outbound protocol streams for /ipfs/ping/1.0.0"), a sidecar bug
	for deadline := time.Now().Add(10 * time.Second); ; {
		peers, err := bob.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(peers.Peers) == 1 && peers.Peers[0].RTTMs != nil {
			if !peers.Peers[0].Connected || *peers.Peers[0].Connection != meshlink.PeerConnectionDirect {
				t.Fatalf("%+v", peers.Peers[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RTT: %+v", peers.Peers)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, err := bob.PeersPing(ctx, meshlink.PeersPingParams{Peer: aliceSc.info.PeerID}); err != nil || r.RTTMs < 0 {
		t.Fatalf("%v %v", r, err)
	}

	port := echoServer(t)
	name := "echo"
	if _, err := alice.ServicesShare(ctx, meshlink.ServicesShareParams{Port: int64(port), Name: &name}); err != nil {
		t.Fatal(err)
	}
	waitForService(ctx, t, bob, "echo")
	zero := int64(0)
	fwd, err := bob.ForwardsOpen(ctx, meshlink.ForwardsOpenParams{Peer: aliceSc.info.PeerID, Service: "echo", Port: &zero})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bobEvents, 5*time.Second, "forward.opened", func(e meshlink.Event) bool {
		d, ok := e.Data.(*meshlink.ForwardOpenedEvent)
		return ok && d.Forward.ID == fwd.Forward.ID
	})
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(fwd.Forward.LocalPort)), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg := []byte("hello through the mesh")
	_, _ = conn.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
		t.Fatalf("%q %v", got, err)
	}
	_ = conn.Close()
	closed, err := bob.ForwardsClose(ctx, meshlink.ForwardsCloseParams{ID: fwd.Forward.ID})
	if err != nil || closed.Forward.TotalConnections < 1 {
		t.Fatalf("%+v %v", closed, err)
	}
	var apiErr *meshlink.Error
	if _, err := bob.ForwardsClose(ctx, meshlink.ForwardsCloseParams{ID: fwd.Forward.ID}); !errors.As(err, &apiErr) || apiErr.Code != meshlink.ErrorCodeNotFound {
		t.Fatal(err)
	}
}
