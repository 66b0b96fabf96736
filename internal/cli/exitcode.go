package cli

import (
	"errors"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// Exit codes. This is the one place they are chosen; `prefectctl --help`
// prints exitCodeHelp.
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // the work failed: a step, the API, Docker
	ExitUsage       = 2   // a wrong command line or an invalid project; nothing was changed
	ExitRunFailed   = 3   // a watched flow run ended FAILED, CRASHED or CANCELLED
	ExitTimeout     = 4   // --timeout ran out while watching
	ExitInterrupted = 130 // Ctrl-C or SIGTERM
)

const exitCodeHelp = `Exit codes:
  0    success
  1    the work failed (a step, the Prefect API, Docker)
  2    usage error or invalid project; nothing was changed
  3    a watched flow run ended FAILED, CRASHED or CANCELLED
  4    --timeout ran out while watching a run
  130  interrupted (Ctrl-C or SIGTERM)`

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	switch diag.KindOf(err) {
	case diag.Usage, diag.Invalid:
		return ExitUsage
	case diag.RunFailed:
		return ExitRunFailed
	case diag.Timeout:
		return ExitTimeout
	case diag.Interrupted:
		return ExitInterrupted
	default:
		return ExitFailure
	}
}

// silentError carries an exit code for a failure that has already been
// reported to the user.
type silentError struct{ code int }

func (e *silentError) Error() string { return "already reported" }
