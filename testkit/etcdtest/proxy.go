package etcdtest

import (
	"io"
	"net"
	"sync"
)

// Proxy forwards TCP connections to an etcd endpoint until frozen: then it
// keeps every connection open but passes no more bytes, as a network that
// drops packets does, so clients see requests that never get an answer
// (where a stopped etcd resets the connections at once).
type Proxy struct {
	Addr string // host:port to connect to instead of the target

	l      net.Listener
	target string
	mu     sync.Mutex
	frozen chan struct{} // closed by Freeze
	done   chan struct{} // closed by Close
	conns  []net.Conn
}

// NewProxy starts a proxy to target (host:port).
func NewProxy(target string) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), l: l, target: target, frozen: make(chan struct{}), done: make(chan struct{})}
	go p.serve()
	return p, nil
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, t)
		p.mu.Unlock()
		go p.pipe(c, t)
		go p.pipe(t, c)
	}
}

// pipe copies from src to dst in small steps, and stops copying (without
// closing anything) once frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			<-p.done // hold the bytes until Close
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

// Freeze stops passing bytes on every connection, present and future.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.frozen:
	default:
		close(p.frozen)
	}
}

// Close closes the listener and every connection.
func (p *Proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
		close(p.done)
	}
	for _, c := range p.conns {
		c.Close()
	}
}
