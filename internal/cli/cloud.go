package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/diag"
)

func newCloudCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cloud",
		Short: "Work with Prefect Cloud",
	}
	cmd.AddCommand(newCloudLoginCmd(a))
	return cmd
}

func newCloudLoginCmd(a *app) *cobra.Command {
	var key, handle string
	cmd := &cobra.Command{
		Use:   "login --key KEY [--workspace ACCOUNT/WORKSPACE]",
		Short: "Log in to Prefect Cloud and save the key in the current profile",
		Long: `Check an API key against Prefect Cloud, pick a workspace, and store
PREFECT_API_KEY and PREFECT_API_URL in the current profile of profiles.toml, in
Prefect's own format, so prefect and prefectctl share the login.

Without --workspace, the only workspace is used, or the one the profile
already points at. Use --key - to read the key from standard input and keep
it out of your shell history.`,
		Example: `  prefectctl cloud login --key "$PREFECT_KEY" --workspace acme/prod
  echo "$PREFECT_KEY" | prefectctl cloud login --key -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "-" {
				line, err := bufio.NewReader(a.io.In).ReadString('\n')
				if err != nil && line == "" {
					return usageErr("pipe the key on standard input", "no API key on standard input")
				}
				key = strings.TrimSpace(line)
			}
			if key == "" {
				return usageErr("create a key at https://app.prefect.cloud (Settings > API keys) and pass it with --key", "--key is required")
			}
			s, err := a.prefectSettings()
			if err != nil {
				return err
			}
			if env, ok := os.LookupEnv("PREFECT_API_KEY"); ok && env != "" && env != key {
				return usageErr("unset PREFECT_API_KEY, or log in with the same key",
					"cannot log in with a key when a different PREFECT_API_KEY is set in the environment (it would override the profile)")
			}
			ws, err := a.cloudWorkspaces(cmd, s, key)
			if err != nil {
				return err
			}
			chosen, err := pickWorkspace(ws, handle, s)
			if err != nil {
				return err
			}
			apiURL := chosen.APIURL(s.CloudAPIURL())
			if err := config.WriteProfile(s.ProfilesPath(), s.ProfileName(), map[string]string{
				"PREFECT_API_KEY": key,
				"PREFECT_API_URL": apiURL,
			}, false); err != nil {
				return err
			}
			a.ui.infof("Saved PREFECT_API_URL and PREFECT_API_KEY in profile %q (%s).", s.ProfileName(), s.ProfilesPath())
			fmt.Fprintf(a.io.Out, "Authenticated with Prefect Cloud! Using workspace %q.\n", chosen.Handle())
			return nil
		},
	}
	cmd.Flags().StringVarP(&key, "key", "k", "", "Prefect Cloud API key (pnu_... or pnb_...); - reads it from stdin")
	cmd.Flags().StringVarP(&handle, "workspace", "w", "", "workspace handle ACCOUNT/WORKSPACE")
	return cmd
}

// cloudWorkspaces lists the key's workspaces at the account-level Cloud API.
func (a *app) cloudWorkspaces(cmd *cobra.Command, s *config.Settings, key string) ([]cloudapi.Workspace, error) {
	opt := cloudapi.SettingsOptions(s, s.CloudAPIURL(), a.ui.debugf)
	opt.APIKey, opt.AuthString, opt.Cloud = key, "", true
	c, err := cloudapi.New(opt)
	if err != nil {
		return nil, err
	}
	ws, err := c.ReadWorkspaces(cmd.Context())
	if errors.Is(err, cloudapi.ErrUnauthorized) || errors.Is(err, cloudapi.ErrForbidden) {
		hint := "check that the key is correct and has not expired"
		switch {
		case strings.HasPrefix(key, "pcu"):
			hint = "this looks like a Prefect Cloud 1 key; create one at https://app.prefect.cloud"
		case !strings.HasPrefix(key, "pnu_") && !strings.HasPrefix(key, "pnb_"):
			hint = "Prefect Cloud keys start with 'pnu_' or 'pnb_'"
		}
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "unable to authenticate with Prefect Cloud", Hint: hint, Err: err}
	}
	return ws, err
}

func pickWorkspace(ws []cloudapi.Workspace, handle string, s *config.Settings) (cloudapi.Workspace, error) {
	handles := make([]string, len(ws))
	for i, w := range ws {
		handles[i] = w.Handle()
	}
	sort.Strings(handles)
	if handle != "" {
		for _, w := range ws {
			if w.Handle() == handle {
				return w, nil
			}
		}
		hint := "the key has no workspaces"
		if len(ws) > 0 {
			hint = "available workspaces: " + strings.Join(handles, ", ")
		}
		return cloudapi.Workspace{}, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("workspace %q not found", handle), Hint: hint}
	}
	switch len(ws) {
	case 0:
		return cloudapi.Workspace{}, &diag.Error{Kind: diag.Runtime, Msg: "no workspaces found",
			Hint: "create a workspace at " + s.CloudUIURL() + " and try again"}
	case 1:
		return ws[0], nil
	}
	for _, w := range ws {
		if w.APIURL(s.CloudAPIURL()) == s.APIURL() {
			return w, nil // the profile already uses it, as Prefect keeps it
		}
	}
	return cloudapi.Workspace{}, &diag.Error{Kind: diag.Usage, Msg: "the key can use several workspaces",
		Hint: "choose one with --workspace: " + strings.Join(handles, ", ")}
}
