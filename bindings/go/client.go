package meshlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// DefaultTimeout bounds a call whose context has no deadline: a little over the sidecar's own 30 s
// method limit.
const DefaultTimeout = 35 * time.Second

// ProtocolVersion is the protocol version this binding speaks.
const ProtocolVersion = 1

// Client is a connection to one sidecar. It is safe for concurrent use: calls may overlap and their
// replies are matched by id. Close it when done.
type Client struct {
	info    APIInfo
	timeout time.Duration
	sock    zmq4.Socket
	cancel  context.CancelFunc
	nextID  atomic.Int64
	sendMu  sync.Mutex
	mu      sync.Mutex
	pending map[int64]chan reply
	// envPrefix is `,"token":<token>,"method":` of every request envelope
	envPrefix []byte
	closed    bool
	done      chan struct{}
}

type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    ErrorCode      `json:"code"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	} `json:"error"`
	err error
}

// Option configures Connect.
type Option func(*options)

type options struct {
	stateDir string
	info     *APIInfo
	timeout  time.Duration
}

// WithStateDir finds the sidecar from this state dir's api.json (default: $MESHLINK_STATE, then the
// platform default).
func WithStateDir(dir string) Option { return func(o *options) { o.stateDir = dir } }

// WithAPIInfo connects to these endpoints with this token instead of reading api.json.
func WithAPIInfo(info APIInfo) Option { return func(o *options) { o.info = &info } }

// WithTimeout sets the bound of calls whose context has no deadline (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Connect finds the sidecar and connects a DEALER socket to its ROUTER.
func Connect(ctx context.Context, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, f := range opts {
		f(&o)
	}
	info := o.info
	if info == nil {
		var err error
		if info, err = ReadAPIInfo(o.stateDir); err != nil {
			return nil, err
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	sock := zmq4.NewDealer(sctx, zmq4.WithDialerRetry(100*time.Millisecond), zmq4.WithDialerMaxRetries(20))
	if err := dial(ctx, sock, info.Router); err != nil {
		cancel()
		return nil, err
	}
	tok, _ := json.Marshal(info.Token)
	c := &Client{info: *info, timeout: o.timeout, sock: sock, cancel: cancel, pending: map[int64]chan reply{}, done: make(chan struct{}),
		envPrefix: append(append([]byte(`,"token":`), tok...), `,"method":`...)}
	go c.read()
	return c, nil
}

// dial connects within ctx (go-zeromq's Dial retries on its own schedule and ignores ctx).
func dial(ctx context.Context, sock zmq4.Socket, endpoint string) error {
	errc := make(chan error, 1)
	go func() { errc <- sock.Dial(endpoint) }()
	select {
	case err := <-errc:
		if err != nil {
			_ = sock.Close()
			return fmt.Errorf("%w: cannot connect to %s: %v", ErrSidecarNotRunning, endpoint, err)
		}
		return nil
	case <-ctx.Done():
		_ = sock.Close()
		return fmt.Errorf("meshlink: connecting to %s: %w", endpoint, ctx.Err())
	}
}

// Info returns what the client connected with.
func (c *Client) Info() APIInfo { return c.info }

func (c *Client) read() {
	defer close(c.done)
	for {
		msg, err := c.sock.Recv()
		if err != nil {
			c.failAll(err)
			return
		}
		if len(msg.Frames) == 0 {
			continue
		}
		var r reply
		if json.Unmarshal(msg.Frames[len(msg.Frames)-1], &r) != nil {
			continue // not an answer anyone can match; its caller times out
		}
		id, err := strconv.ParseInt(string(r.ID), 10, 64)
		if err != nil {
			continue
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

func (c *Client) failAll(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := fmt.Errorf("%w (%v)", ErrClosed, cause)
	if c.closed {
		err = ErrClosed
	}
	for id, ch := range c.pending {
		ch <- reply{err: err}
		delete(c.pending, id)
	}
	c.closed = true
}

// Call calls any method by name: params is marshalled to JSON (nil sends {}), the result is
// unmarshalled into result (nil discards it). Errors: *Error (test with errors.Is(err, ErrNotFound)),
// ctx's error when it ends first (context.DeadlineExceeded after the timeout), ErrClosed.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	// The request path allocates little of its own: the envelope is written around the params' JSON
	// (no reflection over the envelope), reply channels and timers are pooled, and a call without a
	// deadline is bounded by a timer rather than a derived context (bench_internal_test.go).
	id := c.nextID.Add(1)
	body, err := c.encode(id, method, params)
	if err != nil {
		return fmt.Errorf("meshlink: %s: params: %w", method, err)
	}
	ch := replyChans.Get().(chan reply)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		replyChans.Put(ch)
		return ErrClosed
	}
	c.pending[id] = ch
	c.mu.Unlock()
	c.sendMu.Lock()
	err = c.sock.Send(zmq4.NewMsg(body))
	c.sendMu.Unlock()
	if err != nil {
		c.forget(id, ch)
		return fmt.Errorf("meshlink: %s: send: %w", method, err)
	}
	var expired <-chan time.Time
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		t := getTimer(c.timeout)
		defer putTimer(t)
		expired = t.C
	}
	select {
	case r := <-ch:
		replyChans.Put(ch) // the reader sent once and has forgotten it
		switch {
		case r.err != nil:
			return r.err
		case r.Error != nil:
			return &Error{Code: r.Error.Code, Message: r.Error.Message, Data: r.Error.Data, Method: method}
		case r.Result == nil:
			return fmt.Errorf("%w: %s: neither result nor error", ErrBadReply, method)
		case result != nil:
			if err := json.Unmarshal(r.Result, result); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrBadReply, method, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id, ch)
		return fmt.Errorf("meshlink: %s: no answer: %w", method, ctx.Err())
	case <-expired:
		c.forget(id, ch)
		return fmt.Errorf("meshlink: %s: no answer: %w", method, context.DeadlineExceeded)
	}
}

// encode writes the request envelope around the params' JSON.
func (c *Client) encode(id int64, method string, params any) ([]byte, error) {
	p := []byte("{}")
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return nil, err
		}
	}
	m, err := json.Marshal(method)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(c.envPrefix)+len(m)+len(p)+40)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, ProtocolVersion, 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, c.envPrefix...) // ,"token":"...","method":
	b = append(b, m...)
	b = append(b, `,"params":`...)
	b = append(b, p...)
	return append(b, '}'), nil
}

// forget drops a call that gave up; its channel is reused only when the reader can no longer send
// to it (a reply that arrives later is dropped by the reader).
func (c *Client) forget(id int64, ch chan reply) {
	c.mu.Lock()
	_, waiting := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if waiting {
		replyChans.Put(ch)
	}
}

var replyChans = sync.Pool{New: func() any { return make(chan reply, 1) }}

var timers sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// putTimer stops t and drains its channel (go 1.22 timer semantics) before pooling it.
func putTimer(t *time.Timer) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	timers.Put(t)
}

// Close closes the socket; calls still waiting fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if already {
		return nil
	}
	err := c.sock.Close()
	c.cancel()
	<-c.done
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
