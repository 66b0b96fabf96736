package cli

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/config"
)

const redacted = "********"

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the Prefect settings prefectctl uses",
	}
	cmd.AddCommand(newConfigViewCmd(a))
	return cmd
}

func newConfigViewCmd(a *app) *cobra.Command {
	var output string
	var showDefaults bool
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Show each Prefect setting and where it came from (secrets redacted)",
		Long: `Show the Prefect settings prefectctl reads, each with its source, found the way
Prefect 3.9.1 finds them: environment, .env, prefect.toml, pyproject.toml
[tool.prefect], then the active profile of profiles.toml. API keys and auth
strings are always redacted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			s, err := a.prefectSettings()
			if err != nil {
				return err
			}
			var shown []config.Setting
			for _, st := range s.All() {
				if st.Secret && st.Value != "" {
					st.Value = redacted
				} else if strings.HasSuffix(st.Name, "_URL") {
					st.Value = hideURLPassword(st.Value)
				}
				always := st.Name == "PREFECT_PROFILE" || st.Name == "PREFECT_PROFILES_PATH"
				isDefault := st.Source.Kind == config.SourceDefault && !always
				if isDefault && !showDefaults {
					continue
				}
				shown = append(shown, st)
			}
			if output == "json" {
				rows := make([]map[string]any, len(shown))
				for i, st := range shown {
					rows[i] = map[string]any{"name": st.Name, "value": st.Value, "source": st.Source.Kind, "source_detail": st.Source.Detail, "secret": st.Secret}
				}
				warns := []string{}
				for _, w := range s.Warnings() {
					warns = append(warns, w.Msg)
				}
				return writeJSON(a.io.Out, map[string]any{
					"profile": s.ProfileName(), "profiles_path": s.ProfilesPath(), "is_cloud": s.IsCloud(),
					"api_url": hideURLPassword(s.APIURL()), "ui_url": hideURLPassword(s.UIURL()),
					"settings": rows, "warnings": warns,
				})
			}
			if ui := s.UIURL(); ui != "" {
				a.ui.infof("Connected to %s", hideURLPassword(ui))
			}
			for _, st := range shown {
				fmt.Fprintf(a.io.Out, "%s=%s %s\n", a.ui.p.key.Render(st.Name), strconv.Quote(st.Value), a.ui.p.dim.Render("(from "+st.Source.String()+")"))
			}
			if !showDefaults {
				a.ui.infof("%s", a.ui.p.dim.Render("Settings left at their defaults are hidden; --show-defaults lists them."))
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&showDefaults, "show-defaults", false, "also list settings left at their default values")
	return cmd
}

// hideURLPassword masks the password of a URL with user info
// (http://user:pass@host/api), which Prefect accepts in PREFECT_API_URL.
func hideURLPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
