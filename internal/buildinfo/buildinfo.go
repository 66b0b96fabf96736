// Package buildinfo holds the version stamped into the binary at link time.
package buildinfo

import "runtime/debug"

// Version, Commit and Date are set with -ldflags -X by the Makefile and
// goreleaser.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Resolved returns Version, falling back to the module version recorded by
// `go install` when the binary was not stamped.
func Resolved() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}
