package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/cli"
)

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsWith("keygen", "keygen [--name NAME] DIR", "Writes a new P-256 root key pair into DIR, creating it (mode 0700) when\n"+
		"missing: NAME.key (PKCS#8 PEM private key, for the server's --key; mode\n"+
		"0600) and NAME.pub (PEM public key, for clients to pin). Same files as\n"+
		"the Python mpgameserver's genkey.", stderr)
	name := fs.String("name", "root", "base name of the key files")
	if err := cli.ParseOnly(fs, args); err != nil {
		return err
	}
	if err := cli.ApplyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: mpgameserver keygen [--name NAME] DIR: give exactly one directory (--help says more)")
		return cli.ErrUsage
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("key directory %q: %w", dir, err)
	}
	k, err := conn.GenerateKey(nil)
	if err != nil {
		return err
	}
	priv := filepath.Join(dir, *name+".key")
	pub := filepath.Join(dir, *name+".pub")
	for _, f := range []string{priv, pub} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s exists, and keygen never overwrites a key (clients pin it): choose another DIR or --name, "+
				"or remove %s and %s if nothing uses them", f, priv, pub)
		}
	}
	if err := conn.SavePrivateKey(priv, k); err != nil {
		return fmt.Errorf("private key file %q: %w", priv, err)
	}
	if err := conn.SavePublicKey(pub, k.Public()); err != nil {
		return fmt.Errorf("public key file %q: %w", pub, err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", priv, pub)
	return nil
}
