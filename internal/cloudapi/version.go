package cloudapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// TargetPrefectVersion is the Prefect release whose behaviour prefectctl
// reproduces.
const TargetPrefectVersion = "3.9.1"

// CheckServerVersion does what Prefect's client does once per process on
// self-hosted servers: a different major version is an error, an older
// server a warning. Prefect Cloud is always compatible and not asked.
func (c *Client) CheckServerVersion(ctx context.Context) (server string, warn *diag.Warning, err error) {
	if c.opt.Cloud {
		return "", nil, nil
	}
	server, err = c.ServerVersion(ctx)
	if err != nil {
		return "", nil, err
	}
	warn, err = compareVersions(server, TargetPrefectVersion)
	return server, warn, err
}

// compareVersions returns (warning, error) for a server version against
// the client's.
func compareVersions(server, client string) (*diag.Warning, error) {
	s, okS := parseVersion(server)
	cl, _ := parseVersion(client)
	if !okS {
		return &diag.Warning{Kind: diag.Runtime, Msg: fmt.Sprintf("cannot read the Prefect server version %q", server)}, nil
	}
	if s[0] != cl[0] {
		return nil, &diag.Error{Kind: diag.Runtime,
			Msg:  fmt.Sprintf("incompatible Prefect server %s: prefectctl speaks to Prefect %d.x (major versions must match)", server, cl[0]),
			Hint: fmt.Sprintf("point PREFECT_API_URL at a Prefect %d server", cl[0])}
	}
	for i := range 3 {
		if s[i] != cl[i] {
			if s[i] < cl[i] {
				return &diag.Warning{Kind: diag.Runtime,
					Msg:  fmt.Sprintf("the Prefect server runs %s, older than %s which prefectctl targets; newer request fields may be rejected", server, client),
					Hint: "upgrade the server to " + client + " or later"}, nil
			}
			break
		}
	}
	return nil, nil
}

// parseVersion reads the leading "X.Y.Z" of a PEP 440 version (3.9.1,
// 3.10.0rc1, 3.9.2.dev3+g1234).
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".", 4)
	if len(parts) < 2 {
		return out, false
	}
	for i := 0; i < 3 && i < len(parts); i++ {
		digits := parts[i]
		if j := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			digits = digits[:j]
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
