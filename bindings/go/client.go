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
	closed  bool
	done    chan struct{}
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

type request struct {
	V      int    `json:"v"`
	ID     int64  `json:"id"`
	Token  string `json:"token"`
	Method string `json:"method"`
	Params any    `json:"params"`
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
	c := &Client{info: *info, timeout: o.timeout, sock: sock, cancel: cancel, pending: map[int64]chan reply{}, done: make(chan struct{})}
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
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	if params == nil {
		params = struct{}{}
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{V: ProtocolVersion, ID: id, Token: c.info.Token, Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("meshlink: %s: params: %w", method, err)
	}
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	c.sendMu.Lock()
	err = c.sock.Send(zmq4.NewMsg(body))
	c.sendMu.Unlock()
	if err != nil {
		forget()
		return fmt.Errorf("meshlink: %s: send: %w", method, err)
	}
	select {
	case r := <-ch:
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
		forget()
		return fmt.Errorf("meshlink: %s: no answer: %w", method, ctx.Err())
	}
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
