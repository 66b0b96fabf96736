package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/template"
)

// dialTimeout bounds the registry reachability check.
var dialTimeout = 5 * time.Second

// preflightDocker checks, when the selected deployments will build or push
// images, that the Docker daemon answers and that each registry named by a
// build step's image_name accepts connections — before anything is built.
func preflightDocker(ctx context.Context, ds []*Deployment, snap *Snapshot, opt Options, deps Deps) diag.List {
	needDaemon := false
	registries := map[string]bool{}
	for _, d := range ds {
		if !opt.SkipBuild {
			for _, s := range d.build {
				if s.FQN == steps.BuildDockerImage {
					needDaemon = true
				}
			}
		}
		if !opt.SkipPush {
			for _, s := range d.push {
				if s.FQN != steps.PushDockerImage {
					continue
				}
				needDaemon = true
				for _, b := range d.build {
					if b.FQN == steps.BuildDockerImage {
						if host := registryHost(b.Inputs, opt); host != "" {
							registries[host] = true
						}
					}
				}
			}
		}
	}
	var problems diag.List
	why := ""
	if deps.Images != nil {
		// Decided per image: a code layer needs no daemon.
		var imageProblems diag.List
		needDaemon, why, imageProblems = planImages(ctx, ds, snap, opt, deps)
		if len(imageProblems) > 0 {
			return imageProblems
		}
	}
	if needDaemon && deps.Docker != nil {
		if err := deps.Docker.CheckDocker(ctx); err != nil {
			hint := "start Docker, or point DOCKER_HOST (or `docker context use`) at a running daemon"
			var h interface{ Hint() string }
			if errors.As(err, &h) {
				hint = h.Hint()
			}
			msg := "the build and push steps need Docker: " + err.Error()
			if why != "" {
				msg = "the build and push steps need Docker (" + why + "): " + err.Error()
			}
			problems = append(problems, &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: hint})
		}
	}
	hosts := make([]string, 0, len(registries))
	for h := range registries {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		addr := h
		if _, _, err := net.SplitHostPort(h); err != nil {
			addr = net.JoinHostPort(h, "443")
		}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
		cancel()
		if err != nil {
			problems = append(problems, &diag.Error{Kind: diag.Runtime, Msg: fmt.Sprintf("registry %s is not reachable: %v", h, err),
				Hint: "check the image_name of the build step and that the registry is up (and that you are on the right network)"})
			continue
		}
		conn.Close()
	}
	return problems
}

// registryHost is the registry part of a build step's image_name, resolved
// from the environment as the step itself would; "" when it is still a
// placeholder or names Docker Hub.
func registryHost(inputs *py.Map, opt Options) string {
	raw, _ := inputs.Get("image_name")
	v, err := template.ApplyValues(raw, template.EnvValues(opt.env()), template.Options{RemoveNotSet: true, Env: opt.env()})
	name, ok := v.(string)
	if err != nil || !ok || name == "" || strings.Contains(name, "{{") {
		return ""
	}
	first, _, found := strings.Cut(name, "/")
	if !found || !(strings.ContainsAny(first, ".:") || first == "localhost") || first == "docker.io" || first == "index.docker.io" {
		return ""
	}
	return first
}
