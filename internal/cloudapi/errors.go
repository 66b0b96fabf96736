package cloudapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Sentinels for errors.Is on API errors, by status.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("unprocessable request")
)

// APIError is a non-2xx answer from the Prefect API.
type APIError struct {
	Status  int
	Method  string
	URL     string   // secrets redacted
	Detail  string   // Prefect's "detail" or "exception_message"
	Issues  []string // formatted "exception_detail" validation problems
	Body    string   // the raw body when it was not Prefect-shaped (truncated)
	Retries int      // how many retries were made before giving up
	Hint    string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.Issues) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Issues, "; "))
	}
	if e.Detail == "" && len(e.Issues) == 0 && e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	if e.Retries > 0 {
		fmt.Fprintf(&b, " (after %d retries)", e.Retries)
	}
	return b.String()
}

// Is lets errors.Is(err, ErrNotFound) and friends match by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrInvalid:
		return e.Status == http.StatusUnprocessableEntity
	}
	return false
}

// Contains reports whether Prefect's detail mentions s (e.g. "CSRF").
func (e *APIError) Contains(s string) bool {
	return strings.Contains(e.Detail, s) || strings.Contains(e.Body, s)
}

// asDiag wraps an APIError so the CLI prints it with its hint; errors.As
// and errors.Is still reach the APIError.
func (e *APIError) asDiag() error {
	return &diag.Error{Kind: diag.Runtime, Msg: e.Error(), Hint: e.Hint, Err: e}
}

const maxBodyInError = 2000

// newAPIError reads Prefect's error shapes: {"detail": str|list|obj} from
// HTTPException and {"exception_message", "exception_detail"} from
// validation and server errors.
func newAPIError(method, redactedURL string, status int, body []byte, cloud bool) *APIError {
	e := &APIError{Status: status, Method: method, URL: redactedURL}
	var shape struct {
		Detail           json.RawMessage `json:"detail"`
		ExceptionMessage string          `json:"exception_message"`
		ExceptionDetail  json.RawMessage `json:"exception_detail"`
	}
	if err := json.Unmarshal(body, &shape); err == nil {
		e.Detail = shape.ExceptionMessage
		if len(shape.Detail) > 0 && string(shape.Detail) != "null" {
			d, issues := formatDetail(shape.Detail)
			if d != "" {
				e.Detail = d
			}
			e.Issues = append(e.Issues, issues...)
		}
		if len(shape.ExceptionDetail) > 0 && string(shape.ExceptionDetail) != "null" {
			_, issues := formatDetail(shape.ExceptionDetail)
			e.Issues = append(e.Issues, issues...)
		}
	}
	if e.Detail == "" && len(e.Issues) == 0 {
		s := strings.TrimSpace(string(body))
		if len(s) > maxBodyInError {
			s = s[:maxBodyInError] + "…"
		}
		e.Body = s
	}
	e.Hint = hintFor(status, e, cloud)
	return e
}

// formatDetail turns a detail value into a message and/or validation issues.
func formatDetail(raw json.RawMessage) (string, []string) {
	v, err := py.DecodeJSON(raw)
	if err != nil {
		return strings.TrimSpace(string(raw)), nil
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case []any:
		var msgs, issues []string
		for _, item := range t {
			switch it := item.(type) {
			case string:
				msgs = append(msgs, it)
			case *py.Map:
				issues = append(issues, formatIssue(it))
			default:
				msgs = append(msgs, py.Str(it))
			}
		}
		return strings.Join(msgs, "; "), issues
	case *py.Map:
		if t.Has("msg") || t.Has("loc") {
			return "", []string{formatIssue(t)}
		}
		b, _ := py.EncodeJSON(t)
		return string(b), nil
	}
	return py.Str(v), nil
}

// formatIssue renders a pydantic error {loc, msg, type, input} as
// "schedules[0].schedule.cron: Value error, ... (value_error)".
func formatIssue(m *py.Map) string {
	var path strings.Builder
	if loc, ok := m.Get("loc"); ok {
		parts, _ := loc.([]any)
		for i, p := range parts {
			switch x := p.(type) {
			case int64:
				fmt.Fprintf(&path, "[%d]", x)
			default:
				s := py.Str(x)
				if i == 0 && (s == "body" || s == "query" || s == "path") && len(parts) > 1 {
					continue
				}
				if path.Len() > 0 {
					path.WriteByte('.')
				}
				path.WriteString(s)
			}
		}
	}
	msg, _ := m.Get("msg")
	out := py.Str(msg)
	if typ, ok := m.Get("type"); ok {
		out += " (" + py.Str(typ) + ")"
	}
	if path.Len() > 0 {
		out = path.String() + ": " + out
	}
	return out
}

func hintFor(status int, e *APIError, cloud bool) string {
	switch status {
	case http.StatusUnauthorized:
		if cloud {
			return "the API key was rejected: check PREFECT_API_KEY or run 'prefectctl cloud login --key KEY'"
		}
		return "the server wants credentials: set PREFECT_API_AUTH_STRING (user:pass) to match the server's PREFECT_SERVER_API_AUTH_STRING, or PREFECT_API_KEY"
	case http.StatusForbidden:
		if e.Contains("CSRF") {
			return "the server enforces CSRF; keep PREFECT_CLIENT_CSRF_SUPPORT_ENABLED on"
		}
		if e.Contains("maximum number of deployments") {
			return "your Prefect Cloud plan's deployment limit is reached; delete unused deployments or upgrade"
		}
		if e.Contains("reserved") {
			return "choose a name that does not start with 'prefect'"
		}
		return "the key has no permission for this action in this workspace"
	case http.StatusNotFound:
		if e.Detail == "Not Found" {
			return "the URL is not a Prefect API endpoint: check that PREFECT_API_URL ends in /api (self-hosted) or /api/accounts/ID/workspaces/ID (Cloud)"
		}
		return "it does not exist on this server; check the name or id, and PREFECT_API_URL / the profile in use"
	case http.StatusConflict:
		return "the request conflicts with what the server has (name already taken, invalid job variables or parameters, or a reference to a missing object)"
	case http.StatusUnprocessableEntity:
		return "the server rejected the request body; an older Prefect server also rejects fields it does not know (upgrade it to 3.9 or later)"
	case http.StatusTooManyRequests:
		return "rate limited by Prefect Cloud; try again later or reduce concurrency"
	case http.StatusRequestEntityTooLarge:
		return "the request is larger than the server accepts (Prefect Cloud: 5 MiB)"
	}
	if status >= 500 {
		return "the Prefect server failed; see its logs, and try again"
	}
	return ""
}
