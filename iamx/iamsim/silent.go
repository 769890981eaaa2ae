package iamsim

import (
	"net"
	"sync"
)

// Silent is an endpoint that accepts connections and never answers: the
// case a client's read timeout exists for.
type Silent struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// NewSilent listens on 127.0.0.1 with a random port. It panics if it
// cannot listen, as NewServer does.
func NewSilent() *Silent {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &Silent{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	return s
}

// URL is "http://127.0.0.1:PORT".
func (s *Silent) URL() string { return "http://" + s.l.Addr().String() }

// Close stops listening and drops the connections it holds.
func (s *Silent) Close() {
	s.l.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}
