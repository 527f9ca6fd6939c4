package notify

import "os"

func readLocale(lang string) ([]byte, error) {
	return os.ReadFile("../../ui/locales/" + lang + ".yaml")
}
