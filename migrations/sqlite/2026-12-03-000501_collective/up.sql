-- The collective role (docs/FEDERATION.md, "The collective role").
-- The roster: member hosts whose bulletins the collective's Group re-shares. `actor_id` is the
-- host account's actor URL; `state` is pending (asked to join, waiting for approval) or approved;
-- `joined_via` is `added` (by the collective's admin) or `request` (the host asked with a Join).
CREATE TABLE collective_members (
    actor_id TEXT PRIMARY KEY NOT NULL,
    handle TEXT NOT NULL,
    state TEXT NOT NULL,
    joined_via TEXT NOT NULL,
    join_activity_id TEXT,
    since TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX collective_members_state ON collective_members (state, since);
-- The Group's followers, and the relay subscribers (`is_relay`: a server's instance actor that
-- sent Follow{as:Public}).
CREATE TABLE collective_followers (
    actor_id TEXT PRIMARY KEY NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    status TEXT NOT NULL,
    follow_activity_id TEXT NOT NULL,
    is_relay BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One row per re-shared bulletin: its primary key makes a bulletin reaching the collective by two
-- paths announced once. `undone_at` is set when the Announce was undone (the member deleted it or
-- left the roster).
CREATE TABLE collective_reshares (
    object_id TEXT PRIMARY KEY NOT NULL,
    member_actor_id TEXT NOT NULL,
    announce_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP
);
CREATE INDEX collective_reshares_member ON collective_reshares (member_actor_id, created_at);
-- The member side: the collectives this host asked to join, and what they answered.
CREATE TABLE collective_joins (
    group_actor_id TEXT PRIMARY KEY NOT NULL,
    handle TEXT NOT NULL,
    join_activity_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
