package apimock

import (
	"path/filepath"
	"runtime"
	"strings"
)

// caller finds the test file line that registered a stub, for Verify's
// message.
func caller() (pc uintptr, file string, line int) {
	for skip := 2; skip < 10; skip++ {
		pc, file, line, ok := runtime.Caller(skip)
		if !ok {
			break
		}
		if !strings.HasSuffix(filepath.Dir(file), "apimock") {
			return pc, filepath.Base(file), line
		}
	}
	return 0, "?", 0
}
