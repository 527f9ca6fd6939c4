package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

// post creates one resource ("Messages" or "Calls") of the account: it
// sends form, authenticated, and decodes a 2xx JSON answer into out. Every
// failure wraps phone.ErrProvider; the request is bounded by
// phone.SendTimeout whatever ctx allows.
func (c *Client) post(ctx context.Context, resource string, form url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, phone.SendTimeout)
	defer cancel()
	endpoint := c.BaseURL + "/" + apiVersion + "/Accounts/" + url.PathEscape(c.AccountSID) + "/" + resource + ".json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "caddy-mfa")
	req.SetBasicAuth(c.AccountSID, c.AuthToken)

	resp, err := phone.Do(c.HTTP, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeAPIError(resp.StatusCode, body)
	}
	if readErr != nil {
		return fmt.Errorf("%w: reading answer: %w", phone.ErrProvider, readErr)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: answer (HTTP %d) is not JSON: %w", phone.ErrProvider, resp.StatusCode, err)
	}
	return nil
}
