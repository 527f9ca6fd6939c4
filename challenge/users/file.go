// Package users is the first factor: the users file in Authelia's format
// (display name, password hash, email, groups), parsed, watched and checked.
package users

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// User is one entry of the users file.
type User struct {
	Name        string
	DisplayName string
	Email       string
	Groups      []string
	Disabled    bool
	hash        Hash
	// groupsHeader is Groups joined with commas, made once.
	groupsHeader string
}

// InGroup reports whether the user is a member of group.
func (u *User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// entry mirrors one user in Authelia's users file.
type entry struct {
	DisplayName string   `yaml:"displayname"`
	Password    string   `yaml:"password"`
	Email       string   `yaml:"email"`
	Groups      []string `yaml:"groups"`
	Disabled    bool     `yaml:"disabled"`
}

// Parse reads a users file. Errors name the line they concern.
func Parse(data []byte) (map[string]*User, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("users file is not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("users file is empty; it needs a top-level 'users:' mapping")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: users file must be a mapping with a 'users:' key", root.Line)
	}
	var usersNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "users" {
			usersNode = root.Content[i+1]
		}
	}
	if usersNode == nil {
		return nil, fmt.Errorf("line %d: users file has no 'users:' key", root.Line)
	}
	if usersNode.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: 'users:' must be a mapping of user name to details", usersNode.Line)
	}
	out := make(map[string]*User, len(usersNode.Content)/2)
	for i := 0; i+1 < len(usersNode.Content); i += 2 {
		k, v := usersNode.Content[i], usersNode.Content[i+1]
		name := k.Value
		if name == "" {
			return nil, fmt.Errorf("line %d: empty user name", k.Line)
		}
		if bytes.ContainsAny([]byte(name), " \t\r\n:/") {
			return nil, fmt.Errorf("line %d: user name %q may not contain spaces, ':' or '/'", k.Line, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: user %q is listed twice", k.Line, name)
		}
		var e entry
		if err := v.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: user %q: %w", v.Line, name, err)
		}
		h, err := ParseHash(e.Password)
		if err != nil {
			return nil, fmt.Errorf("line %d: user %q: %w", passwordLine(v), name, err)
		}
		groups := append([]string(nil), e.Groups...)
		sort.Strings(groups)
		out[name] = &User{Name: name, DisplayName: e.DisplayName, Email: e.Email, Groups: groups, Disabled: e.Disabled, hash: h,
			groupsHeader: strings.Join(groups, ",")}
	}
	return out, nil
}

// passwordLine finds the line of the password key of a user node, for errors.
func passwordLine(v *yaml.Node) int {
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "password" {
			return v.Content[i+1].Line
		}
	}
	return v.Line
}

// GroupsHeader is the user's groups joined with commas, as Authelia sends
// them in Remote-Groups. It is computed once when the file is read.
func (u *User) GroupsHeader() string { return u.groupsHeader }
