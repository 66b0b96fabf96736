// Redaction of secrets in what the client logs and reports.

package cloudapi

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

func (c *Client) debugf(format string, args ...any) {
	if c.opt.Debug != nil {
		c.opt.Debug("%s", c.redact(fmt.Sprintf(format, args...)))
	}
}

const maxLoggedBody = 1024

func (c *Client) logCall(r request, u *url.URL, payload []byte, status int, body []byte, readErr error, d time.Duration) {
	line := fmt.Sprintf("%s %s -> %d (%s)", r.method, redactURL(u.String()), status, d.Round(time.Millisecond))
	if readErr != nil {
		line += fmt.Sprintf(" [body read failed: %v]", readErr)
	}
	if len(payload) > 0 {
		line += "\n  request: " + clip(payload)
	}
	if r.secrets {
		line += "\n  response: [redacted: contains secrets]"
	} else if len(body) > 0 {
		line += "\n  response: " + clip(body)
	}
	c.debugf("%s", line)
}

func clip(b []byte) string {
	s := string(b)
	if len(s) > maxLoggedBody {
		s = s[:maxLoggedBody] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return s
}

// redactError scrubs secrets a server echoed back (e.g. in request_body).
func (c *Client) redactError(e *APIError) {
	e.Detail, e.Body = c.redact(e.Detail), c.redact(e.Body)
	for i := range e.Issues {
		e.Issues[i] = c.redact(e.Issues[i])
	}
}

// Redact replaces the key, the auth string and every secret the client
// has seen (AddSecret, resolved secret blocks) in s, for output that may
// hold request bodies, such as a deploy plan.
func (c *Client) Redact(s string) string { return c.redact(s) }

// redact removes the configured key and auth string from any text.
func (c *Client) redact(s string) string {
	c.secretsMu.Lock()
	extra := c.secrets
	c.secretsMu.Unlock()
	for _, list := range [][]string{{c.opt.APIKey, c.opt.AuthString, base64.StdEncoding.EncodeToString([]byte(c.opt.AuthString))}, extra} {
		for _, secret := range list {
			if len(secret) >= 4 { // shorter strings would blank out ordinary text
				s = strings.ReplaceAll(s, secret, "********")
			}
		}
	}
	return s
}

// AddSecret keeps s out of every later debug line and error message, e.g.
// a resolved secret that ends up in a request body.
func (c *Client) AddSecret(s string) {
	if len(s) < 4 {
		return
	}
	c.secretsMu.Lock()
	defer c.secretsMu.Unlock()
	for _, x := range c.secrets {
		if x == s {
			return
		}
	}
	c.secrets = append(c.secrets, s)
}

var secretParam = regexp.MustCompile(`(?i)^(api[_-]?key|key|token|access_token|password|auth|secret)$`)

// redactURL hides user info and secret-looking query parameters.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretParam.MatchString(k) {
				q.Set(k, "REDACTED")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
