package cloudapi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
)

// errRetired is what a retired connection answers to a new request. It
// writes nothing, so the transport sends the request again on a new
// connection (net/http retries a request that wrote nothing on a reused
// connection when its body can be read again, as every body here can).
var errRetired = errors.New("connection retired after a server error")

// retiringConn is a connection the client can retire: once retired it
// refuses to carry another request. A connection the server is about to
// reset goes back to the transport's pool before its answer has been
// read to the end and judged; retiring it first makes sure no other
// request is sent on it in the meantime.
type retiringConn struct {
	net.Conn
	retired atomic.Bool
}

func (c *retiringConn) Write(p []byte) (int, error) {
	if c.retired.Load() {
		c.Conn.Close()
		return 0, errRetired
	}
	return c.Conn.Write(p)
}

// retiringDialer wraps each connection d makes in a retiringConn.
func retiringDialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &retiringConn{Conn: conn}, nil
	}
}

// asRetiring finds the retiringConn under the connection a request used
// (below TLS for https), or nil for a transport that does not make them.
func asRetiring(conn net.Conn) *retiringConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	rc, _ := conn.(*retiringConn)
	return rc
}
