package meshlink

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Event is one event from the sidecar's PUB socket.
type Event struct {
	// Name is the topic, e.g. "peer.connected".
	Name string
	// Seq grows by one per event of a sidecar process.
	Seq  int64
	Time time.Time
	// Data is a pointer to the event's generated struct (e.g. *PeerConnectedEvent); an event this
	// binding does not know yet (a newer sidecar) is a json.RawMessage.
	Data any
	// Raw is the data as received.
	Raw json.RawMessage
	// Missed counts events this subscriber missed just before this one (a gap in Seq: ZeroMQ drops
	// events for slow subscribers). When it is not 0, re-read the state with the methods.
	Missed int64
}

// Subscription delivers events on a channel until its context ends or Close is called.
type Subscription struct {
	c      chan Event
	sock   zmq4.Socket
	cancel context.CancelFunc
	mu     sync.Mutex
	err    error
	quit   chan struct{}
	done   chan struct{}
}

// Events subscribes to the events whose topic starts with one of topics (none: all), e.g.
// c.Events(ctx, "peer."). ZeroMQ subscriptions reach the publisher asynchronously: events published
// in the first milliseconds may not arrive. The channel is closed when ctx ends or on Close.
func (c *Client) Events(ctx context.Context, topics ...string) (*Subscription, error) {
	sctx, cancel := context.WithCancel(context.Background())
	sock := zmq4.NewSub(sctx, zmq4.WithDialerRetry(100*time.Millisecond), zmq4.WithDialerMaxRetries(20))
	if len(topics) == 0 {
		topics = []string{""}
	}
	for _, t := range topics {
		if err := sock.SetOption(zmq4.OptionSubscribe, t); err != nil {
			cancel()
			_ = sock.Close()
			return nil, fmt.Errorf("meshlink: subscribe %q: %w", t, err)
		}
	}
	if err := dial(ctx, sock, c.info.Events); err != nil {
		cancel()
		return nil, err
	}
	s := &Subscription{c: make(chan Event, 64), sock: sock, cancel: cancel, quit: make(chan struct{}), done: make(chan struct{})}
	go s.run(ctx)
	return s, nil
}

// C is the channel of events; it is closed when the subscription ends (see Err).
func (s *Subscription) C() <-chan Event { return s.c }

// Err is why the subscription ended: ErrClosed after Close, ctx's error, or a socket or decoding error.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Subscription) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *Subscription) run(ctx context.Context) {
	defer close(s.done)
	defer close(s.c)
	stop := context.AfterFunc(ctx, func() { s.fail(ctx.Err()); _ = s.sock.Close() })
	defer stop()
	var last int64
	for {
		msg, err := s.sock.Recv()
		if err != nil {
			s.fail(err)
			return
		}
		if len(msg.Frames) != 2 {
			continue
		}
		var env struct {
			Event string          `json:"event"`
			Seq   int64           `json:"seq"`
			Time  time.Time       `json:"time"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(msg.Frames[1], &env); err != nil {
			s.fail(fmt.Errorf("%w: event: %v", ErrBadReply, err))
			return
		}
		data, err := decodeEventData(env.Event, env.Data)
		if err != nil {
			s.fail(fmt.Errorf("%w: %s data: %v", ErrBadReply, env.Event, err))
			return
		}
		e := Event{Name: env.Event, Seq: env.Seq, Time: env.Time, Data: data, Raw: env.Data}
		if last != 0 && env.Seq > last+1 {
			e.Missed = env.Seq - last - 1
		}
		last = env.Seq
		select {
		case s.c <- e:
		case <-s.quit:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() error {
	s.mu.Lock()
	select {
	case <-s.quit:
		s.mu.Unlock()
		return nil
	default:
		close(s.quit)
	}
	if s.err == nil {
		s.err = ErrClosed
	}
	s.mu.Unlock()
	_ = s.sock.Close()
	s.cancel()
	<-s.done
	return nil
}

func decodeAs[T any](raw json.RawMessage) (any, error) {
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	return v, nil
}
