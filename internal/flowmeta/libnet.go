// Library default values of the network: IP addresses and networks, and URLs as pydantic normalises them.

package flowmeta

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ipString builds ipaddress objects from a string (or an int for
// addresses) and formats them as Python 3.11 does.
func ipString(fn string, v any) (string, error) {
	wantV4 := strings.HasPrefix(fn, "IPv4")
	wantV6 := strings.HasPrefix(fn, "IPv6")
	check := func(a netip.Addr) error {
		switch {
		case wantV4 && !a.Is4(), wantV6 && !a.Is6():
			return fmt.Errorf("wrong address family")
		case a.Is4In6() || a.Zone() != "":
			return fmt.Errorf("IPv4-mapped and scoped IPv6 addresses print differently across Python versions")
		}
		return nil
	}
	if n, isInt := v.(int64); isInt && strings.Contains(strings.ToLower(fn), "address") {
		if n < 0 || wantV6 {
			return "", fmt.Errorf("integer address")
		}
		if n < 1<<32 {
			var b [4]byte
			for i := 0; i < 4; i++ {
				b[3-i] = byte(n >> (8 * i))
			}
			return netip.AddrFrom4(b).String(), nil
		}
		return "", fmt.Errorf("integer address")
	}
	s, isStr := v.(string)
	if !isStr || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("unsupported argument")
	}
	if strings.Contains(s, ":") && strings.Contains(s, ".") {
		return "", fmt.Errorf("IPv6 with an embedded IPv4 address")
	}
	switch {
	case strings.HasSuffix(fn, "Address") || fn == "ip_address":
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", err
		}
		if err := check(a); err != nil {
			return "", err
		}
		return a.String(), nil
	default:
		network := strings.HasSuffix(fn, "Network") || fn == "ip_network"
		p, err := netip.ParsePrefix(s)
		if !strings.Contains(s, "/") {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return "", aerr
			}
			p, err = netip.PrefixFrom(a, a.BitLen()), nil
		}
		if err != nil {
			return "", err
		}
		if err := check(p.Addr()); err != nil {
			return "", err
		}
		if network && p.Masked() != p {
			return "", fmt.Errorf("%s has host bits set", s)
		}
		return p.Addr().String() + "/" + strconv.Itoa(p.Bits()), nil
	}
}

// specialPorts are the WHATWG special schemes and their default ports.
var specialPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

// normalizeURL is str(AnyUrl(s)) for the URLs whose normalisation the
// reader knows (the WHATWG rules pydantic-core applies: scheme and host
// lowercased, default port dropped, "/" as the empty path of special
// schemes); anything it would have to percent-encode or resolve is refused.
func normalizeURL(s, kind string) (string, error) {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"<>`{}|\\^", r) {
			return "", fmt.Errorf("characters pydantic would encode")
		}
	}
	if len(s) > 2083 && kind == "HttpUrl" {
		return "", fmt.Errorf("URL longer than 2083 characters")
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", fmt.Errorf("relative URL")
	}
	scheme := strings.ToLower(s[:i])
	for j, r := range scheme {
		if !(r >= 'a' && r <= 'z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", fmt.Errorf("invalid scheme")
		}
	}
	if (kind == "HttpUrl" || kind == "AnyHttpUrl") && scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("URL scheme should be 'http' or 'https'")
	}
	rest := s[i+1:]
	defPort, special := specialPorts[scheme]
	if !strings.HasPrefix(rest, "//") {
		if special {
			return "", fmt.Errorf("special URL without //")
		}
		return scheme + ":" + rest, nil
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostport := "", authority
	if k := strings.LastIndexByte(authority, '@'); k >= 0 {
		userinfo, hostport = authority[:k+1], authority[k+1:]
	}
	host, port := hostport, ""
	if k := strings.LastIndexByte(hostport, ':'); k >= 0 {
		host, port = hostport[:k], hostport[k+1:]
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n > 65535 || port[0] == '0' && len(port) > 1 {
				return "", fmt.Errorf("invalid port")
			}
		}
	}
	if strings.HasPrefix(host, "[") || strings.Contains(host, "%") {
		return "", fmt.Errorf("host the reader does not normalise")
	}
	path, query := tail, ""
	if k := strings.IndexAny(tail, "?#"); k >= 0 {
		path, query = tail[:k], tail[k:]
	}
	if special {
		if scheme == "file" {
			if host != "" || userinfo != "" || port != "" {
				return "", fmt.Errorf("file URL with a host")
			}
		} else if host == "" {
			return "", fmt.Errorf("empty host")
		}
		host = strings.ToLower(host)
		labels := strings.Split(host, ".")
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
				return "", fmt.Errorf("host the reader does not normalise")
			}
		}
		if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
			if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
				return "", fmt.Errorf("numeric host the reader does not normalise")
			}
		}
		if port == defPort {
			port = ""
		}
		if path == "" {
			path = "/"
		}
		for _, seg := range strings.Split(path, "/") {
			if l := strings.ToLower(seg); l == "." || l == ".." || strings.Contains(l, "%2e") {
				return "", fmt.Errorf("path with dot segments")
			}
		}
	}
	out := scheme + "://" + userinfo + host
	if port != "" {
		out += ":" + port
	}
	return out + path + query, nil
}
