package meshlink

import (
	"errors"
	"fmt"
)

// Error makes an ErrorCode usable as an errors.Is target (see the Err* variables).
func (c ErrorCode) Error() string { return "meshlink: error code " + string(c) }

// Error is an error answer of the sidecar. Test it with errors.Is(err, meshlink.ErrNotFound) (or any
// ErrorCode) and read the details with errors.As(err, &e). Switch on Code, never on Message.
type Error struct {
	// Code is one of the closed set in schemas/types/error-code.json (a newer sidecar may send others).
	Code ErrorCode
	// Message is for people.
	Message string
	// Data holds machine-readable details, e.g. {"path": "/params/name"}.
	Data map[string]any
	// Method is the method that failed.
	Method string
}

func (e *Error) Error() string {
	return fmt.Sprintf("meshlink: %s: %s [%s]", e.Method, e.Message, e.Code)
}

// Is reports whether target is this error's code.
func (e *Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

var (
	// ErrSidecarNotRunning: no api.json in the state dir, or the process it names is gone.
	ErrSidecarNotRunning = errors.New("meshlink: no sidecar is running")
	// ErrClosed: the client or subscription was closed.
	ErrClosed = errors.New("meshlink: closed")
	// ErrBadReply: a reply or event that is not the protocol's JSON (a bug on one side).
	ErrBadReply = errors.New("meshlink: malformed reply")
)
