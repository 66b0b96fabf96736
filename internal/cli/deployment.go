package cli

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/flowrun"
	"github.com/prefectctl/prefectctl/internal/py"
)

func newDeploymentCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deployment",
		Aliases: []string{"deployments"},
		Short:   "Run, list and inspect deployments on the Prefect server",
	}
	cmd.AddCommand(newDeploymentRunCmd(a), newDeploymentLsCmd(a), newDeploymentInspectCmd(a))
	return cmd
}

// ---- ls ----

func newDeploymentLsCmd(a *app) *cobra.Command {
	var output string
	var byCreated bool
	cmd := &cobra.Command{
		Use:     "ls [FLOW_NAME...]",
		Aliases: []string{"list"},
		Short:   "List deployments, optionally only those of some flows",
		Example: `  prefectctl deployment ls
  prefectctl deployment ls hello -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			client, _, err := a.apiClient()
			if err != nil {
				return err
			}
			deps, flows, err := client.ListDeployments(cmd.Context(), args)
			if err != nil {
				return err
			}
			if output == "json" { // in the server's order, as Prefect prints it
				items := []any{}
				for _, d := range deps {
					doc, err := deploymentDoc(d)
					if err != nil {
						return err
					}
					items = append(items, doc)
				}
				return writeJSON(a.io.Out, items)
			}
			name := func(d cloudapi.Deployment) string { return flows[d.FlowID] + "/" + d.Name }
			sort.SliceStable(deps, func(i, j int) bool {
				if byCreated {
					return deps[i].Created.After(deps[j].Created)
				}
				fi, fj := flows[deps[i].FlowID], flows[deps[j].FlowID]
				if fi != fj {
					return fi < fj
				}
				return deps[i].Name < deps[j].Name
			})
			if len(deps) == 0 {
				a.ui.infof("No deployments found.")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tWORK POOL\tSCHEDULES\tPAUSED")
			for _, d := range deps {
				pool := "-"
				if d.WorkPoolName != nil && *d.WorkPoolName != "" {
					pool = *d.WorkPoolName
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name(d), d.ID, pool, scheduleSummary(d.Schedules), yesNo(d.Paused))
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&byCreated, "by-created", false, "newest first instead of by name")
	return cmd
}

// shortDuration drops zero tails: 10m rather than 10m0s, 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// scheduleSummary is a short description of a deployment's schedules.
func scheduleSummary(ss []cloudapi.Schedule) string {
	var parts []string
	for _, s := range ss {
		if s.Schedule == nil {
			continue
		}
		var p string
		if v, ok := s.Schedule.Get("cron"); ok {
			p = "cron " + py.Str(v)
		} else if v, ok := s.Schedule.Get("interval"); ok {
			if f, ok := v.(float64); ok {
				p = "every " + shortDuration(time.Duration(f*float64(time.Second)))
			} else {
				p = "every " + py.Str(v) + "s"
			}
		} else if _, ok := s.Schedule.Get("rrule"); ok {
			p = "rrule"
		} else {
			continue
		}
		if !s.Active {
			p += " (inactive)"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// ---- inspect ----

func newDeploymentInspectCmd(a *app) *cobra.Command {
	var output, id string
	jf := &jobFlags{}
	cmd := &cobra.Command{
		Use:   "inspect FLOW/DEPLOYMENT | --id ID",
		Short: "Show everything the server holds for a deployment",
		Long: `Show a deployment as the server returns it, plus the automations related to it,
as 'prefect deployment inspect' does. -o json prints the JSON document; the
default is the same content as YAML.`,
		Example: `  prefectctl deployment inspect hello/arthur
  prefectctl deployment inspect hello/arthur -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			client, _, err := a.apiClient()
			if err != nil {
				return err
			}
			if err := jf.check(cmd); err != nil {
				return err
			}
			d, err := flowrun.ResolveDeployment(cmd.Context(), client, flowrun.Target{Name: name, ID: id})
			if err != nil {
				return withRunHints(err)
			}
			if jf.job {
				return inspectJob(cmd.Context(), a, client, d, jf, output)
			}
			doc, err := deploymentDoc(*d)
			if err != nil {
				return err
			}
			autos, err := client.ReadRelatedAutomations(cmd.Context(), "prefect.deployment."+d.ID)
			if err != nil && !errors.Is(err, cloudapi.ErrNotFound) { // servers without automations answer 404
				return err
			}
			list := []any{}
			for _, m := range autos {
				list = append(list, m)
			}
			doc.Set("automations", list)
			if output == "json" {
				return writeJSON(a.io.Out, doc)
			}
			enc := yaml.NewEncoder(a.io.Out)
			enc.SetIndent(2)
			if err := enc.Encode(yamlNode(doc)); err != nil {
				return err
			}
			return enc.Close()
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "a deployment id, instead of FLOW/DEPLOYMENT")
	addOutputFlag(cmd, &output)
	addInspectJobFlags(cmd, jf)
	return cmd
}

// Field orders of Prefect 3.9.1's client models DeploymentResponse and
// DeploymentSchedule, which `prefect deployment inspect/ls -o json` print.
var (
	deploymentFields = []string{"id", "created", "updated", "name", "version", "version_id", "version_info", "branch", "base", "root",
		"description", "flow_id", "concurrency_limit", "global_concurrency_limit", "concurrency_options", "paused", "schedules",
		"job_variables", "parameters", "pull_steps", "tags", "labels", "work_queue_name", "last_polled", "parameter_openapi_schema",
		"path", "entrypoint", "storage_document_id", "infrastructure_document_id", "created_by", "updated_by", "work_queue_id",
		"enforce_parameter_schema", "work_pool_name", "status"}
	scheduleFields = []string{"id", "created", "updated", "deployment_id", "schedule", "active", "max_scheduled_runs", "parameters", "slug"}
)

// deploymentDoc is a deployment as Prefect's CLI prints it: the client
// model's fields in its order, null when the server did not send one.
// Fields a newer server adds, which Prefect 3.9.1 would drop, are kept at
// the end.
func deploymentDoc(d cloudapi.Deployment) (*py.Map, error) {
	v, err := py.DecodeJSON(d.Raw)
	raw, ok := v.(*py.Map)
	if err != nil || !ok {
		return nil, diag.Errorf(diag.Runtime, "", "the server's answer for deployment %s is not a JSON object", d.ID)
	}
	doc := inModelOrder(raw, deploymentFields)
	if ss, ok := doc.Get("schedules"); ok {
		if list, ok := ss.([]any); ok {
			for i, s := range list {
				if m, ok := s.(*py.Map); ok {
					list[i] = inModelOrder(m, scheduleFields)
				}
			}
		}
	}
	return doc, nil
}

func inModelOrder(raw *py.Map, fields []string) *py.Map {
	out := py.NewMap()
	for _, k := range fields {
		v, _ := raw.Get(k)
		out.Set(k, v)
	}
	for _, k := range raw.Keys() {
		if !out.Has(k) {
			v, _ := raw.Get(k)
			out.Set(k, v)
		}
	}
	return out
}

// yamlNode converts a dynamic value to a YAML node, keeping map order.
func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case *py.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, yamlNode(x))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, x := range t {
			n.Content = append(n.Content, yamlNode(x))
		}
		return n
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if strings.Contains(t, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(t, 10)}
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: py.FloatRepr(t)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: py.Str(v)}
}
