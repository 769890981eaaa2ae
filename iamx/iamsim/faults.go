package iamsim

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Call is one request the server received, as Calls reports it.
type Call struct {
	Action     string
	Signer     string // access key ID in the Authorization header, verified or not
	User       string // the UserName parameter
	KeyID      string // the AccessKeyId parameter
	HTTPStatus int    // 0 while in flight, or when dropped or abandoned
	ErrorCode  string // "" on success
	Dropped    bool   // the connection was closed without a response
	Time       time.Time
}

// Calls returns every request received since the start or the last
// ResetCalls, in arrival order. Held calls appear with HTTPStatus 0.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount counts the received calls of action; "" counts all.
func (s *Server) CallCount(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == "" {
		return len(s.calls)
	}
	n := 0
	for _, c := range s.calls {
		if c.Action == action {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callBase += len(s.calls)
	s.calls = nil
}

// fault is one injected failure. It matches calls of action ("" any),
// lets skip of them pass, then fires on the next remaining ones (-1: until
// ClearFaults).
type fault struct {
	action    string
	skip      int
	remaining int
	code      string
	message   string
	drop      bool
	afterward bool // drop after the action ran: the change is made, the answer lost
	rawStatus int
	rawBody   string
}

// takeFaultLocked picks the fault that fires on this call, if any. Every
// matching fault still waiting counts the call, and at most one fires, so
// two FailNext make the next two calls fail.
func (s *Server) takeFaultLocked(action string) *fault {
	var fired *fault
	for _, f := range s.faults {
		if f.action != "" && f.action != action {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		if fired == nil {
			fired = f
			if f.remaining > 0 {
				f.remaining--
			}
		}
	}
	if fired != nil && fired.remaining == 0 {
		for i, f := range s.faults {
			if f == fired {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				break
			}
		}
	}
	return fired
}

func (s *Server) addFault(f *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// FailNext makes the next call of action ("" any) fail with the AWS error
// code, at the HTTP status AWS uses for it (StatusFor) and a message like
// AWS's. The action is not performed.
func (s *Server) FailNext(action, code string) {
	s.addFault(&fault{action: action, remaining: 1, code: code})
}

// FailNextMessage is FailNext with a given error message.
func (s *Server) FailNextMessage(action, code, message string) {
	s.addFault(&fault{action: action, remaining: 1, code: code, message: message})
}

// FailNth makes the nth call (1-based, counted from now) of action fail
// with code; the calls before it proceed.
func (s *Server) FailNth(action string, n int, code string) {
	if n < 1 {
		n = 1
	}
	s.addFault(&fault{action: action, skip: n - 1, remaining: 1, code: code})
}

// FailAlways makes every call of action fail with code until ClearFaults.
func (s *Server) FailAlways(action, code string) {
	s.addFault(&fault{action: action, remaining: -1, code: code})
}

// FailNextRaw answers the next call of action with status and a body that
// is not an AWS error document, as some IAM-compatible endpoints and
// proxies do; the SDK cannot parse an error code from it.
func (s *Server) FailNextRaw(action string, status int, body string) {
	s.addFault(&fault{action: action, remaining: 1, rawStatus: status, rawBody: body})
}

// Throttle makes the next n calls of action ("" any) fail with Throttling
// (HTTP 400, "Rate exceeded"), as IAM does under load.
func (s *Server) Throttle(action string, n int) {
	if n < 1 {
		return
	}
	s.addFault(&fault{action: action, remaining: n, code: "Throttling"})
}

// DropNext makes the next call of action close its connection without a
// response, before the action is performed.
func (s *Server) DropNext(action string) {
	s.addFault(&fault{action: action, remaining: 1, drop: true})
}

// DropNextResponse performs the next call of action, then closes the
// connection without sending the response: the change is made but the
// client cannot know it.
func (s *Server) DropNextResponse(action string) {
	s.addFault(&fault{action: action, remaining: 1, drop: true, afterward: true})
}

// Deny makes calls of action ("" any) signed by user's credentials
// (RootUser for the root user; session credentials included) fail with
// AccessDenied (403), like an identity policy would.
func (s *Server) Deny(user, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denies[strings.ToLower(user)+"\x00"+action] = true
}

// ClearFaults removes every injected fault and Deny, and releases every
// Hold. Latency and delays stay as set.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	clear(s.denies)
	for _, h := range s.holds {
		h.release()
	}
	for _, h := range s.taken {
		h.release()
	}
}

// hold blocks calls of one action until released.
type hold struct {
	s        *Server
	action   string
	released chan struct{}
	held     chan struct{}
	once     sync.Once
	heldOnce sync.Once
	// next: the hold takes only the next call; later calls pass.
	next bool
}

// release is called with s.mu held.
func (h *hold) release() {
	h.once.Do(func() {
		close(h.released)
		if h.s.holds[h.action] == h {
			delete(h.s.holds, h.action)
		}
		if h.s.taken[h.action] == h {
			delete(h.s.taken, h.action)
		}
	})
}

// Hold makes calls of action ("" any) block, after they are recorded and
// before anything else happens, until release is called; they then proceed
// normally. Holding an action already held returns the same release.
// release is idempotent.
func (s *Server) Hold(action string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.holds[action]
	if h == nil {
		h = &hold{s: s, action: action, released: make(chan struct{}), held: make(chan struct{})}
		s.holds[action] = h
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		h.release()
	}
}

// HoldNext is Hold for the next call of action only: that call blocks
// until release, later calls pass (another client's, say). Tests use it to
// interleave two rotations: one run's create waits while the other runs.
func (s *Server) HoldNext(action string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &hold{s: s, action: action, released: make(chan struct{}), held: make(chan struct{}), next: true}
	s.holds[action] = h
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		h.release()
	}
}

// Held returns a channel that is closed once a call of action is blocked by
// the current Hold, or nil (which never fires) if action is not held.
func (s *Server) Held(action string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.holds[action]; h != nil {
		return h.held
	}
	if h := s.taken[action]; h != nil {
		return h.held
	}
	return nil
}

// WaitHeld blocks until a call of action is blocked by the current Hold,
// ctx is done or the server is closed.
func (s *Server) WaitHeld(ctx context.Context, action string) error {
	ch := s.Held(action)
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	}
}
