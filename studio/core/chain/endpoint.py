"""Where to connect for a chain profile: the running Sandbox node, or the profile's URL."""

from __future__ import annotations


def endpoint_url(paths, settings, profile) -> str:
    """The RPC URL for ``profile``; starts the sandbox node when it is the Sandbox (blocking:
    call it off the GUI thread)."""
    from studio.core.chain.profiles import SANDBOX_ID, ChainProfiles
    from studio.core.chain.sandbox import shared_sandbox

    if profile.id == SANDBOX_ID:
        return shared_sandbox(paths.data_dir).start()
    return ChainProfiles(settings).rpc_url(profile)
