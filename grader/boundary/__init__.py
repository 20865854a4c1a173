"""Everything about running untrusted student code: codec, channel, proxies, worker, sandbox."""
