package push

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewTopic(t *testing.T) {
	ntfyTopic := regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
	seen := map[string]bool{}
	for range 200 {
		topic, err := NewTopic()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(topic, "mfa-") || len(topic) != 30 || strings.ToLower(topic) != topic {
			t.Fatalf("topic %q is not mfa- and 26 lower-case characters", topic)
		}
		if !ntfyTopic.MatchString(topic) || !ValidTopic(topic) {
			t.Fatalf("topic %q is not valid", topic)
		}
		if seen[topic] {
			t.Fatalf("topic %q made twice", topic)
		}
		seen[topic] = true
	}
}

func TestValidTopic(t *testing.T) {
	topic, err := NewTopic()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"",
		"mfa-",
		strings.TrimPrefix(topic, "mfa-"),
		"MFA-" + topic[4:],
		"mfa-" + strings.ToUpper(topic[4:]),
		topic[:29],
		topic + "a",
		"mfa-aaaaaaaaaaaaaaaaaaaaaaaaa1", // 1 is not base32
		"mfa-aaaaaaaaaaaaaaaaaaaaaaaaa_",
		"mfa-aaaaaaaaaaaaaaaaaaaaaaaaab", // sets bits beyond the 128
		"mytopic",
	} {
		if ValidTopic(bad) {
			t.Errorf("ValidTopic(%q) = true", bad)
		}
	}
	for _, good := range []string{"mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa", "mfa-77777777777777777777777777"[:29] + "y"} {
		if !ValidTopic(good) {
			t.Errorf("ValidTopic(%q) = false", good)
		}
	}
}
