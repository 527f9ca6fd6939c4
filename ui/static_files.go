package ui

import (
	"errors"
	"io/fs"
)

// filesOnly is a file system of the static assets that has no folders to
// open: http.FileServer then answers 404 for the static folder and any
// folder under it, instead of listing its files.
type filesOnly struct{ fs.FS }

// Open opens name if it is a file; a folder is reported as not existing.
func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := file.Stat()
	if err != nil || info.IsDir() {
		_ = file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.Join(fs.ErrNotExist, err)}
	}
	return file, nil
}
