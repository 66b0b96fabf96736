package cloudapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/prefectctl/prefectctl/internal/py"
)

// FilterFlows is POST /flows/filter; body may be nil.
func (c *Client) FilterFlows(ctx context.Context, body any) ([]Flow, error) {
	var out []Flow
	if body == nil {
		body = py.NewMap()
	}
	_, err := c.send(ctx, http.MethodPost, "flows/filter", body, &out)
	return out, err
}

// ReadRelatedAutomations is GET /automations/related-to/{resource_id},
// e.g. "prefect.deployment.<id>". Each automation is returned whole, in the
// server's field order.
func (c *Client) ReadRelatedAutomations(ctx context.Context, resourceID string) ([]*py.Map, error) {
	var out []*py.Map
	err := c.get(ctx, "automations/related-to/"+seg(resourceID), &out)
	return out, err
}

// ReadFlowRunStates is GET /flow_run_states/?flow_run_id=ID: every state
// the run has been in, so a poller misses no transition.
func (c *Client) ReadFlowRunStates(ctx context.Context, flowRunID string) ([]State, error) {
	var out []State
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "flow_run_states/", query: url.Values{"flow_run_id": {flowRunID}}})
	if err != nil {
		return nil, err
	}
	return out, decodeInto(resp, &out)
}
