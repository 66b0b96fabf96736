package cli

import (
	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/memo"
)

// globalOptions are the flags every command accepts.
type globalOptions struct {
	NoColor bool
	Quiet   bool
	Verbose bool
	Debug   bool
	Profile string
}

// app is what every command gets: streams, global options, a logger and
// the run's Prefect settings (loaded once).
type app struct {
	io       *IOStreams
	opts     globalOptions
	ui       *ui
	settings memo.Value[*config.Settings]
}

func (a *app) ensureUI() {
	if a.ui == nil {
		a.ui = newUI(a.io, a.opts)
	}
}

// prefectSettings loads Prefect's settings for this run (honouring
// --profile) and prints the misconfiguration warnings Prefect would give,
// once: commands that ask twice read the files once.
func (a *app) prefectSettings() (*config.Settings, error) {
	return a.settings.Get(func() (*config.Settings, error) {
		s, err := config.Load(config.LoadOptions{Profile: a.opts.Profile})
		if err != nil {
			return nil, err
		}
		a.ensureUI()
		for _, w := range s.Warnings() {
			a.ui.warn(w)
		}
		return s, nil
	})
}

// apiClient is a Prefect API client for the configured URL; without one
// it fails with a hint and never starts anything. mods adjust the options
// the settings give (deploy's --concurrency).
func (a *app) apiClient(mods ...func(*cloudapi.Options)) (*cloudapi.Client, *config.Settings, error) {
	s, err := a.prefectSettings()
	if err != nil {
		return nil, nil, err
	}
	if err := s.RequireAPI(); err != nil {
		return nil, nil, err
	}
	opt := cloudapi.SettingsOptions(s, s.APIURL(), a.ui.debugf)
	for _, mod := range mods {
		mod(&opt)
	}
	c, err := cloudapi.New(opt)
	if err != nil {
		return nil, nil, err
	}
	return c, s, nil
}
