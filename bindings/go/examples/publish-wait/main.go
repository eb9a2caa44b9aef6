// Command publish-wait publishes a folder as an artifact and waits until a teammate has fetched it:
//
//	go run ./examples/publish-wait -path ./dist [-tag web-dist] [-state DIR] [-timeout 10m]
//
// It publishes the folder (ArtifactsPublish answers at once with a transfer; transfer.done carries
// the artifact), prints the artifact id, then waits until a member other than this node holds a
// complete copy (artifact.updated events, re-checked with Artifacts in case events were missed) and
// prints who. A teammate fetches it with `meshlink fetch <id or tag> <dir>` (or Client.ArtifactsFetch).
// Exit status: 0 fetched, 4 nobody fetched it within -timeout, 1 the publish failed, 3 no sidecar.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	meshlink "github.com/meshlink/meshlink/bindings/go"
)

func main() {
	path := flag.String("path", "", "directory (or file) to publish")
	tag := flag.String("tag", "", "tag to publish it under (optional)")
	state := flag.String("state", "", "sidecar state dir")
	timeout := flag.Duration("timeout", 10*time.Minute, "how long to wait for a teammate")
	flag.Parse()
	if *path == "" {
		flag.Usage()
		os.Exit(2)
	}
	abs, err := filepath.Abs(*path)
	if err != nil {
		fail(1, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := meshlink.Connect(ctx, meshlink.WithStateDir(*state), meshlink.WithTimeout(10*time.Second))
	if errors.Is(err, meshlink.ErrSidecarNotRunning) {
		fail(3, err)
	} else if err != nil {
		fail(1, err)
	}
	defer c.Close()
	// subscribe before acting: subscriptions reach the sidecar asynchronously
	events, err := c.Events(ctx, "transfer.", "artifact.")
	if err != nil {
		fail(1, err)
	}
	defer events.Close()
	st, err := c.Status(ctx)
	if err != nil {
		fail(1, err)
	}
	time.Sleep(100 * time.Millisecond)
	p := meshlink.ArtifactsPublishParams{Path: abs}
	if *tag != "" {
		p.Tag = tag
	}
	pub, err := c.ArtifactsPublish(ctx, p)
	if err != nil {
		fail(1, err)
	}
	fmt.Printf("publishing %s (transfer %s)\n", pub.Transfer.Path, pub.Transfer.ID)

	var art meshlink.Artifact
	for published := false; !published; {
		e, ok := <-events.C()
		if !ok {
			fail(4, fmt.Errorf("the publish did not finish: %w", context.Cause(ctx)))
		}
		switch d := e.Data.(type) {
		case *meshlink.TransferDoneEvent:
			if d.Transfer.ID == pub.Transfer.ID {
				art, published = d.Artifact, true
			}
		case *meshlink.TransferFailedEvent:
			if d.Transfer.ID == pub.Transfer.ID {
				if d.Transfer.Error != nil {
					fail(1, fmt.Errorf("publish failed: %s: %s", d.Transfer.Error.Code, d.Transfer.Error.Message))
				}
				fail(1, errors.New("publish failed"))
			}
		}
	}
	as := ""
	if art.Tag != nil {
		as = " as " + *art.Tag
	}
	fmt.Printf("published %s%s (%d bytes in %d file(s)); waiting for a teammate to fetch it\n", art.ID, as, art.Size, art.Files)

	poll := time.NewTicker(5 * time.Second) // events may be missed (slow subscriber): re-read the state now and then
	defer poll.Stop()
	for {
		var holders []meshlink.ArtifactHoldersItem
		select {
		case e, ok := <-events.C():
			if !ok {
				fail(4, fmt.Errorf("nobody fetched %s within %s", art.ID, *timeout))
			}
			if d, ok := e.Data.(*meshlink.ArtifactUpdatedEvent); ok && d.Artifact.ID == art.ID {
				holders = fetchedBy(d.Artifact, st.PeerID)
			}
			if len(holders) > 0 || e.Missed == 0 {
				break
			}
			holders = lookUp(ctx, c, art.ID, st.PeerID)
		case <-poll.C:
			holders = lookUp(ctx, c, art.ID, st.PeerID)
		}
		if len(holders) > 0 {
			for _, h := range holders {
				name := "?"
				if h.Name != nil {
					name = *h.Name
				}
				fmt.Printf("fetched by %s (%s)\n", name, h.Peer)
			}
			return
		}
	}
}

// fetchedBy lists the members other than this node that hold every chunk of the artifact.
func fetchedBy(a meshlink.Artifact, me string) []meshlink.ArtifactHoldersItem {
	var out []meshlink.ArtifactHoldersItem
	for _, h := range a.Holders {
		if h.Complete && h.Peer != me {
			out = append(out, h)
		}
	}
	return out
}

// lookUp re-reads the artifact's holders with Artifacts.
func lookUp(ctx context.Context, c *meshlink.Client, id, me string) []meshlink.ArtifactHoldersItem {
	list, err := c.Artifacts(ctx)
	if err != nil {
		return nil
	}
	for _, a := range list.Artifacts {
		if a.ID == id {
			return fetchedBy(a, me)
		}
	}
	return nil
}

func fail(code int, err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(code)
}
