// Command prefectctl deploys and runs Prefect flows described by prefect.yaml.
package main

import (
	"os"

	"github.com/prefectctl/prefectctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
