'use strict';
// bark demo chat. The connection is made exactly as the seed's frontend makes it:
// Stomp.over(new SockJS('/ws/chat')), authenticated by the HttpOnly `Authorization` cookie that
// POST /api/dev/login sets. History comes from REST; live messages, typing and read marks from
// /sub/chat/{roomId}[/typing|/read]; after a lost connection the room is re-subscribed with
// `last-message-id` so the missed messages arrive (each messageId is shown once). Edits and
// deletes arrive on the same topic as a message's new state (a higher `changeId`); the page keeps
// the newest position it saw for the catch-up. Before the token expires the page gets a new one
// (POST /api/dev/login) and hands it to the open session (/pub/auth/refresh): no reconnect.
// Presence: the room list shows each peer's dot from GET /api/chat/rooms; the open room follows
// /sub/chat/{roomId}/presence (the state at once, then each change) and shows "online" or "last seen".
// Search: GET /api/chat/search over the user's rooms; a result opens its room at the message
// (older history pages are loaded until it is shown) and marks it for a moment.

(function main() {
  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 15000;
  const CONNECT_TIMEOUT_MS = 15000;
  const TYPING_IDLE_MS = 2500;     // stop "typing" after this long without a key
  const TYPING_REFRESH_MS = 3000;  // repeat typing:true while typing goes on
  const TYPING_SHOWN_MS = 6000;    // hide the other side's indicator if its typing:false is lost
  const PAGE = 50;

  const state = {
    me: null,                  // {userId, username, role}
    client: null,              // the stomp.js client of the current connection
    connected: false,
    generation: 0,             // one per connection attempt: callbacks of older ones are ignored
    retries: 0,
    retryTimer: null,
    connectTimer: null,
    holdUntil: 0,              // simulateDrop(): no reconnect before this time
    everConnected: false,
    userSubs: [],
    rooms: new Map(),          // roomId -> summary from GET /api/chat/rooms, latest activity first
    room: null,                // the open room (see openRoom)
    pending: new Map(),        // clientMessageId -> message sent but not yet seen back
    staged: [],                // uploaded files the next message carries
    typing: { on: false, sentAt: 0, idleTimer: null },
    refreshes: 0,              // tokens renewed in-band on this page
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  function newId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // A message is mine when its sender is me: role and id (a customer and a salon may share an id).
  function isMine(m) {
    return m.senderId === state.me.userId && m.senderRole === state.me.role;
  }

  // A message's position in its room's change stream (catch-up resumes after the newest one seen).
  function positionOf(m) {
    return Math.max(m.messageId, Number.isSafeInteger(m.changeId) ? m.changeId : 0);
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch { return null; }
  }

  function timeOf(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  function showError(text) {
    const box = el('div', { class: 'error', 'data-testid': 'error', role: 'alert', text });
    $('errors').append(box);
    setTimeout(() => box.remove(), 8000);
  }

  // Calls the REST API with the cookie; resolves the JSON body (null for 204), throws an Error
  // with `status` and the server's message otherwise.
  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    const json = text ? parseJson(text) : null;
    if (!res.ok) {
      const err = new Error((json && json.message) || `${method} ${path}: HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return json;
  }

  // A green or grey dot; none when the peer's state is unknown (an ADMIN's list).
  function presenceDot(online) {
    if (online === undefined) return null;
    return el('span', { class: `presence-dot ${online ? 'online' : 'offline'}`, 'data-testid': 'presence-dot',
      'data-online': String(Boolean(online)), title: online ? 'online' : 'offline' });
  }

  // The other participant of room summary `room` as (role, id), or null for an ADMIN.
  function peerOf(room) {
    if (!state.me || !room) return null;
    if (state.me.role === 'SALON') return { role: 'USER', userId: room.customerId };
    if (state.me.role === 'USER') return { role: 'SALON', userId: room.salonId };
    return null;
  }

  function onPresence(r, frame) {
    if (state.room !== r) return;
    const p = parseJson(frame.body);
    const peer = peerOf(state.rooms.get(r.id));
    if (!p || !peer || p.userId !== peer.userId || p.role !== peer.role) return;
    const box = $('room-presence');
    box.dataset.online = String(p.online);
    box.replaceChildren(presenceDot(p.online),
      el('span', { 'data-testid': 'presence-text',
        text: p.online ? 'online' : (p.lastSeenAt ? `last seen ${timeOf(p.lastSeenAt)}` : 'offline') }));
    const room = state.rooms.get(r.id);
    if (room) {
      room.peerOnline = p.online;
      room.peerLastSeenAt = p.lastSeenAt;
      renderRooms();
    }
  }

  function peerLabel(room) {
    if (!state.me || !room) return '';
    if (state.me.role === 'SALON') return `Customer ${room.customerId}`;
    if (state.me.role === 'USER') return `Salon ${room.salonId}`;
    return `Customer ${room.customerId} ↔ Salon ${room.salonId}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Login

  function showLogin(message) {
    disconnect();
    closeRoom();
    state.me = null;
    state.pending.clear();
    state.everConnected = false;
    $('messages').replaceChildren();
    $('chat').hidden = true;
    $('login').hidden = false;
    $('me').hidden = true;
    $('logout').hidden = true;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    setStatus('offline', 'offline');
  }

  async function onLoginSubmit(ev) {
    ev.preventDefault();
    const me = {
      userId: Number($('login-user-id').value),
      username: $('login-username').value.trim(),
      role: $('login-role').value,
    };
    if (!Number.isSafeInteger(me.userId) || me.userId < 0 || !me.username) {
      $('login-error').textContent = 'A user id (a whole number) and a name are needed.';
      $('login-error').hidden = false;
      return;
    }
    try {
      await api('POST', '/api/dev/login', me);
    } catch (e) {
      const why = e.status === 404 ? 'dev login is off (start bark with --dev)' : e.message;
      $('login-error').textContent = `Login failed: ${why}`;
      $('login-error').hidden = false;
      return;
    }
    localStorage.setItem('bark.me', JSON.stringify(me));
    enterChat(me);
  }

  function enterChat(me) {
    state.me = me;
    $('login').hidden = true;
    $('chat').hidden = false;
    $('me').hidden = false;
    $('me').textContent = `${me.username} (#${me.userId}, ${me.role})`;
    $('logout').hidden = false;
    $('new-room-label').textContent = me.role === 'SALON' ? 'Customer id' : 'Salon id';
    connect();
    loadRooms().then(() => {
      const m = /room=(\d+)/.exec(location.hash);
      if (m && state.me === me) openRoom(Number(m[1]));
    });
  }

  function onLogout() {
    localStorage.removeItem('bark.me');
    history.replaceState(null, '', location.pathname);
    showLogin();
  }

  // The cookie is HttpOnly: the page remembers who it logged in as, and asks the API whether the
  // cookie still works.
  async function restore() {
    const saved = parseJson(localStorage.getItem('bark.me') || 'null');
    if (saved) {
      $('login-user-id').value = saved.userId;
      $('login-username').value = saved.username;
      $('login-role').value = saved.role;
      try {
        await api('GET', '/api/chat/rooms');
        enterChat(saved);
        return;
      } catch (e) {
        if (e.status !== 401) showError(`Cannot reach the server: ${e.message}`);
      }
    }
    showLogin();
  }

  // ---------------------------------------------------------------------------------------------
  // Connection: SockJS + stomp.js 2.3.3, reconnect with backoff

  function setStatus(kind, text) {
    $('conn-status').dataset.state = kind;
    $('conn-status').textContent = text;
  }

  function connect() {
    disconnect();  // at most one connection: an attempt still under way is dropped
    const gen = state.generation;
    setStatus('connecting', 'connecting…');
    let client;
    try {
      client = Stomp.over(new SockJS('/ws/chat'));
    } catch (e) {
      lost(gen, `cannot open a connection: ${e.message}`);
      return;
    }
    client.debug = null;
    client.heartbeat.outgoing = 10000;
    client.heartbeat.incoming = 10000;
    client.onreceipt = onReceipt;
    state.client = client;
    state.connectTimer = setTimeout(() => lost(gen, 'connecting timed out'), CONNECT_TIMEOUT_MS);
    client.connect({}, () => onConnected(gen, client), (err) => onConnectionError(gen, err));
  }

  function disconnect() {
    state.generation++;
    clearTimeout(state.retryTimer);
    clearTimeout(state.connectTimer);
    const c = state.client;
    state.client = null;
    state.connected = false;
    state.userSubs = [];
    if (state.room) state.room.subs = [];
    setLive(false);
    if (c) {
      try {
        if (c.connected) c.disconnect();
        else c.ws.close();
      } catch { /* already closed */ }
    }
  }

  function onConnected(gen, client) {
    if (gen !== state.generation) {
      try { client.disconnect(); } catch { /* already closed */ }
      return;
    }
    clearTimeout(state.connectTimer);
    state.connected = true;
    state.retries = 0;
    setStatus('online', 'online');
    const c = state.client;
    state.userSubs = [
      c.subscribe('/user/queue/notifications', onNotification),
      c.subscribe('/user/queue/errors', onUserError),
    ];
    if (state.room && state.room.ready) {
      subscribeRoom(state.room);
      scheduleRead(state.room);  // marks skipped while offline
    }
    for (const p of state.pending.values()) transmit(p);
    // After a reconnect: unread counts and last messages may have moved meanwhile.
    if (state.everConnected) loadRooms();
    state.everConnected = true;
  }

  // stomp.js calls this with an ERROR frame, or with a string when the socket closed (possibly both).
  function onConnectionError(gen, err) {
    if (gen !== state.generation) return;
    if (typeof err === 'string') {
      lost(gen, 'connection lost');
      return;
    }
    const code = err.headers.message || 'error';
    if (/^token-/.test(code)) {
      showLogin(`The server refused the login (${code}); log in again.`);
      return;
    }
    showError(`Server error ${code}: ${err.body || ''}`.trim());
    // A room this user may not read would fail again on every reconnect.
    if (code === 'forbidden') closeRoom();
    lost(gen, code);
  }

  // The connection of attempt `gen` is gone: retry with exponential backoff and jitter.
  function lost(gen, why) {
    if (gen !== state.generation) return;
    const old = state.client;
    disconnect();
    if (old) {
      try { old.ws.close(); } catch { /* already closed */ }
    }
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** state.retries);
    const delay = Math.max(base / 2 + Math.random() * base / 2, state.holdUntil - Date.now());
    state.retries++;
    setStatus('offline', `offline (${why}); retrying in ${Math.ceil(delay / 1000)} s`);
    state.retryTimer = setTimeout(connect, delay);
  }

  // Closes the connection as a network failure would, and keeps it closed for `ms` (a debugging
  // aid: what arrives meanwhile is caught up on reconnect).
  function simulateDrop(ms = 0) {
    state.holdUntil = Date.now() + ms;
    if (state.client) {
      try { state.client.ws.close(); } catch { /* already closed */ }
    }
  }

  function onNotification(frame) {
    const n = parseJson(frame.body);
    if (!n || n.type !== 'message') return;
    const room = state.rooms.get(n.roomId);
    if (!room) {
      loadRooms();  // a room someone else just opened with us
      return;
    }
    const open = state.room && state.room.id === n.roomId;
    room.unreadCount = open ? 0 : n.unreadCount;
    if (!room.lastMessage || room.lastMessage.messageId < n.messageId) {
      room.lastMessage = { messageId: n.messageId, senderId: n.senderId, messageText: n.preview };
    }
    touchRoom(room);
  }

  // The session's token expires soon: get a new one and hand it to the session in-band.
  async function refreshToken() {
    try {
      const res = await api('POST', '/api/dev/login', state.me);
      if (!res || !res.token) throw new Error('no token');
      const receipt = `refresh-${newId()}`;
      state.pendingRefresh = receipt;
      send('/pub/auth/refresh', { Authorization: `Bearer ${res.token}`, receipt }, {});
    } catch (e) {
      showError(`The login could not be renewed: ${e.message}`);
    }
  }

  function onUserError(frame) {
    const e = parseJson(frame.body) || { error: 'error', message: frame.body };
    if (e.error === 'token-expiring') {
      refreshToken();
      return;
    }
    showError(`${e.error}: ${e.message}`);
    if (!e.receiptId) return;
    for (const p of state.pending.values()) {
      if (p.receipt === e.receiptId) {
        state.pending.delete(p.clientMessageId);
        p.el.classList.add('failed');
        setMessageState(p.el, 'not sent');
      }
    }
  }

  function onReceipt(frame) {
    const id = frame.headers['receipt-id'];
    if (id === state.pendingRefresh) {
      state.pendingRefresh = null;
      state.refreshes += 1;
    }
    if (state.room && id === state.room.liveReceipt) setLive(true);
    for (const p of state.pending.values()) {
      if (p.receipt === id) setMessageState(p.el, 'stored');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Rooms

  async function loadRooms() {
    const me = state.me;
    let list;
    try {
      list = await api('GET', '/api/chat/rooms');
    } catch (e) {
      if (e.status === 401) showLogin('Your login expired; log in again.');
      else showError(`Rooms: ${e.message}`);
      return;
    }
    if (state.me !== me) return;
    state.rooms = new Map(list.map((r) => [r.roomId, r]));
    if (state.room && state.rooms.has(state.room.id)) state.rooms.get(state.room.id).unreadCount = 0;
    renderRooms();
  }

  // Moves a room to the top (latest activity first) and redraws the list.
  function touchRoom(room) {
    state.rooms.delete(room.roomId);
    state.rooms = new Map([[room.roomId, room], ...state.rooms]);
    renderRooms();
  }

  // A message's text, or for files alone what they are.
  function previewOf(m) {
    if (m.messageText || !m.attachments || !m.attachments.length) return m.messageText;
    return m.attachments.every((a) => a.contentType.startsWith('image/')) ? '📷 Photo' : '📎 File';
  }

  function lastLine(m) {
    if (!m) return 'no messages yet';
    return m.senderName ? `${m.senderName}: ${previewOf(m)}` : previewOf(m);
  }

  function renderRooms() {
    const ul = $('rooms');
    ul.replaceChildren();
    for (const r of state.rooms.values()) {
      const active = state.room && state.room.id === r.roomId;
      const badge = r.unreadCount > 0
        ? el('span', { class: 'unread', 'data-testid': 'room-unread', text: String(r.unreadCount) })
        : null;
      const button = el('button', {
        type: 'button',
        class: `room-item${active ? ' active' : ''}`,
        'data-testid': 'room-item',
        'data-room-id': String(r.roomId),
      },
      el('span', { class: 'room-name' },
        presenceDot(r.peerOnline),
        el('span', { text: `#${r.roomId} · ${peerLabel(r)}` }), badge),
      el('span', { class: 'room-last', 'data-testid': 'room-last', text: lastLine(r.lastMessage) }));
      button.addEventListener('click', () => openRoom(r.roomId));
      ul.append(el('li', {}, button));
    }
    $('rooms-empty').hidden = state.rooms.size > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Search

  const search = { query: '', nextBefore: null, generation: 0 };

  async function runSearch(more) {
    const q = $('search-input').value.trim();
    if (!more) {
      search.query = q;
      search.nextBefore = null;
      search.generation += 1;
      $('search-results').replaceChildren();
    }
    const generation = search.generation;
    if (!search.query) { closeSearch(); return; }
    $('search').hidden = false;
    $('search-status').textContent = 'searching…';
    $('search-more').hidden = true;
    const before = more && search.nextBefore ? `&before=${search.nextBefore}` : '';
    let page;
    try {
      page = await api('GET', `/api/chat/search?q=${encodeURIComponent(search.query)}&limit=20${before}`);
    } catch (e) {
      if (generation !== search.generation) return;
      $('search-status').textContent = e.message;
      return;
    }
    if (generation !== search.generation) return;
    for (const m of page.messages) $('search-results').append(searchResult(m));
    search.nextBefore = page.nextBefore;
    $('search-more').hidden = !page.hasMore;
    const n = $('search-results').childElementCount;
    $('search-status').textContent = n === 0 ? 'no messages found' : `${n}${page.hasMore ? '+' : ''} found`;
  }

  function searchResult(m) {
    const button = el('button', {
      type: 'button',
      class: 'search-result',
      'data-testid': 'search-result',
      'data-room-id': String(m.roomId),
      'data-message-id': String(m.messageId),
    },
    el('span', { class: 'room-name', text: `#${m.roomId} · ${isMine(m) ? 'you' : m.senderName} · ${timeOf(m.sendAt)}` }),
    el('span', { class: 'room-last', text: m.messageText }));
    button.addEventListener('click', () => openAt(m.roomId, m.messageId));
    return el('li', {}, button);
  }

  function closeSearch() {
    search.generation += 1;
    search.query = '';
    $('search-input').value = '';
    $('search').hidden = true;
    $('search-results').replaceChildren();
  }

  // Opens room `roomId` and shows message `messageId` in it, loading older pages as needed.
  async function openAt(roomId, messageId) {
    await openRoom(roomId);
    const r = state.room;
    if (!r || r.id !== roomId) return;
    for (let pages = 0; pages < 40 && !r.shown.has(messageId) && r.hasMore && state.room === r; pages++) {
      await loadOlder(r);
    }
    const li = r.shown.get(messageId);
    if (!li || state.room !== r) return;
    li.scrollIntoView({ block: 'center' });
    li.classList.add('found');
    li.dataset.found = 'true';
    setTimeout(() => { li.classList.remove('found'); delete li.dataset.found; }, 3000);
  }

  async function onNewRoomSubmit(ev) {
    ev.preventDefault();
    const peer = Number($('new-room-peer').value);
    if (!Number.isSafeInteger(peer) || peer < 0) {
      showError('The id must be a whole number.');
      return;
    }
    const me = state.me;
    const body = me.role === 'SALON'
      ? { customerId: peer, salonId: me.userId }
      : { customerId: me.userId, salonId: peer };
    try {
      const room = await api('POST', '/api/chat/rooms', body);
      $('new-room-peer').value = '';
      await loadRooms();
      openRoom(room.roomId);
    } catch (e) {
      showError(`Cannot open the room: ${e.message}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The open room

  async function openRoom(id) {
    if (state.room && state.room.id === id) return;
    closeRoom();
    const r = {
      id,
      shown: new Map(),      // messageId -> <li>
      newestId: 0,
      position: 0,               // the newest messageId or changeId seen: where a catch-up resumes
      oldestId: 0,
      hasMore: false,
      loadingOlder: false,
      ready: false,          // first history page shown: live subscription may start
      subs: [],
      otherRead: 0,          // the other side's read mark
      readSent: 0,
      readTimer: null,
      names: new Map(),      // userId -> name seen on their messages
      typingTimer: null,
    };
    state.room = r;
    setLive(false);
    history.replaceState(null, '', `#room=${id}`);
    $('room-placeholder').hidden = true;
    $('room-view').hidden = false;
    $('room-title').textContent = `#${id} · ${peerLabel(state.rooms.get(id)) || 'room'}`;
    $('room-presence').replaceChildren();
    delete $('room-presence').dataset.online;
    $('messages').replaceChildren();
    $('typing').textContent = '';
    $('history-status').textContent = 'loading…';
    renderRooms();
    let page;
    try {
      page = await api('GET', `/api/chat/rooms/${id}/messages?limit=${PAGE}`);
    } catch (e) {
      if (state.room !== r) return;
      showError(`Room ${id}: ${e.message}`);
      closeRoom();
      return;
    }
    if (state.room !== r) return;
    for (const m of page.messages) addMessage(r, m);
    r.hasMore = page.hasMore;
    for (const p of state.pending.values()) if (p.roomId === id) $('messages').append(p.el);
    updateHistoryStatus(r);
    scrollToBottom();
    r.ready = true;
    if (state.connected) subscribeRoom(r);
    fillViewport(r);
    scheduleRead(r);
    $('message-input').focus();
  }

  function closeRoom() {
    const r = state.room;
    if (!r) return;
    stopTyping();
    clearStaged();
    for (const s of r.subs) {
      try { s.unsubscribe(); } catch { /* connection gone */ }
    }
    clearTimeout(r.readTimer);
    clearTimeout(r.typingTimer);
    state.room = null;
    history.replaceState(null, '', location.pathname);
    $('room-view').hidden = true;
    $('room-placeholder').hidden = false;
    renderRooms();
  }

  // Live messages, typing and read marks. `last-message-id` asks for everything stored after the
  // newest message shown: the gap between the history page (or a lost connection) and now.
  // The receipt of the last SUBSCRIBE marks the room live (data-live on #room-view).
  function subscribeRoom(r) {
    const c = state.client;
    const base = `/sub/chat/${r.id}`;
    r.liveReceipt = `live-${r.id}-${state.generation}`;
    r.subs = [
      c.subscribe(base, (f) => onChatMessage(r, f), { 'last-message-id': String(r.position) }),
      c.subscribe(`${base}/typing`, (f) => onTyping(r, f)),
      c.subscribe(`${base}/presence`, (f) => onPresence(r, f)),
      c.subscribe(`${base}/read`, (f) => onRead(r, f), { receipt: r.liveReceipt }),
    ];
  }

  function setLive(live) {
    $('room-view').dataset.live = String(live);
  }

  function onChatMessage(r, frame) {
    if (state.room !== r) return;
    const m = parseJson(frame.body);
    if (!m || !Number.isSafeInteger(m.messageId)) return;
    const stick = isNearBottom() || isMine(m);
    if (!addMessage(r, m)) return;
    if (r.shown.size === 1) updateHistoryStatus(r);
    if (stick) scrollToBottom();
    if (!isMine(m)) hideTyping(r);
    const room = state.rooms.get(r.id);
    if (room) {
      room.lastMessage = m;
      room.unreadCount = 0;
      touchRoom(room);
    }
    scheduleRead(r);
  }

  // Shows message m once (by messageId), in messageId order; false when it was already shown (a
  // newer state of it, an edit or a delete, replaces what is shown).
  function addMessage(r, m) {
    r.position = Math.max(r.position, positionOf(m));
    const shown = r.shown.get(m.messageId);
    if (shown) {
      if (positionOf(m) > Number(shown.dataset.position)) showState(shown, m);
      return false;
    }
    const mine = isMine(m);
    if (!mine) r.names.set(m.senderId, m.senderName);
    const li = messageElement(m, mine);
    if (mine && m.clientMessageId && state.pending.has(m.clientMessageId)) {
      state.pending.get(m.clientMessageId).el.remove();
      state.pending.delete(m.clientMessageId);
    }
    insertSorted($('messages'), li, m.messageId);
    r.shown.set(m.messageId, li);
    r.newestId = Math.max(r.newestId, m.messageId);
    r.oldestId = r.oldestId ? Math.min(r.oldestId, m.messageId) : m.messageId;
    if (mine) setMessageState(li, m.messageId <= r.otherRead ? 'read' : 'sent');
    return true;
  }

  function messageElement(m, mine) {
    const li = el('li', {
      class: `msg ${mine ? 'mine' : 'theirs'}`,
      'data-testid': 'message',
      'data-message-id': String(m.messageId),
      'data-sender-id': String(m.senderId),
    },
    el('div', { class: 'msg-meta' },
      el('span', { class: 'msg-sender', text: mine ? 'you' : m.senderName }),
      el('time', { dateTime: m.sendAt, text: timeOf(m.sendAt) }),
      el('span', { class: 'msg-edited', 'data-testid': 'message-edited' }),
      mine ? el('span', { class: 'msg-state', 'data-testid': 'message-state' }) : null,
      mine && m.messageId ? el('span', { class: 'msg-actions' },
        el('button', { type: 'button', class: 'msg-edit', 'data-testid': 'edit-message', title: 'Edit', text: '✎' }),
        el('button', { type: 'button', class: 'msg-delete', 'data-testid': 'delete-message', title: 'Delete', text: '🗑' }))
        : null),
    el('div', { class: 'msg-text', 'data-testid': 'message-text', text: m.messageText }),
    attachmentsElement(m.attachments));
    showState(li, m);
    return li;
  }

  // Photos as thumbnails that open the full image; other files as chips. The cookie authorizes
  // the <img> requests.
  function attachmentsElement(list) {
    if (!list || !list.length) return null;
    return el('div', { class: 'msg-files', 'data-testid': 'message-files' }, ...list.map((a) => (a.thumbnailUrl
      ? el('a', { href: a.url, target: '_blank', rel: 'noopener', class: 'msg-photo', title: a.name || 'photo' },
        el('img', { src: a.thumbnailUrl, alt: a.name || 'photo', 'data-testid': 'message-image', loading: 'lazy' }))
      : el('a', { href: a.url, class: 'file-chip', 'data-testid': 'message-file', download: a.name || 'file',
        text: `📎 ${a.name || 'file'} (${Math.max(1, Math.round(a.size / 1024))} KB)` }))));
  }

  // Shows m's latest state in its element: its text, "edited", or the tombstone of a delete.
  function showState(li, m) {
    li.dataset.position = String(positionOf(m));
    li.querySelector('.msg-text').textContent = m.deleted ? 'message deleted' : m.messageText;
    if (m.deleted) li.querySelector('.msg-files')?.remove();
    li.querySelector('.msg-edited').textContent = m.editedAt && !m.deleted ? '(edited)' : '';
    if (m.deleted) {
      li.dataset.deleted = 'true';
      li.classList.add('deleted');
      const actions = li.querySelector('.msg-actions');
      if (actions) actions.remove();
    }
  }

  // Edit and delete of my own messages: an inline editor (Enter saves, Escape cancels).
  function onMessagesClick(ev) {
    const r = state.room;
    const li = ev.target.closest('[data-testid=message]');
    if (!r || !li || !li.dataset.messageId) return;
    const messageId = Number(li.dataset.messageId);
    if (ev.target.closest('.msg-delete')) {
      send(`/pub/chat/delete/${r.id}`, {}, { messageId });
    } else if (ev.target.closest('.msg-edit') && !li.querySelector('.msg-editor')) {
      const text = li.querySelector('.msg-text');
      const editor = el('textarea', { class: 'msg-editor', 'data-testid': 'edit-input', rows: 2, maxLength: 4000 });
      editor.value = text.textContent;
      const close = () => { editor.remove(); text.hidden = false; };
      editor.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') close();
        if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
        e.preventDefault();
        const value = editor.value.trim();
        if (value && value !== text.textContent) send(`/pub/chat/edit/${r.id}`, {}, { messageId, messageText: value });
        close();
      });
      text.hidden = true;
      text.after(editor);
      editor.focus();
    }
  }

  // Stored messages are kept in messageId order; pending ones (no id yet) stay last.
  function insertSorted(list, li, id) {
    let before = null;
    for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
      if (n.dataset.messageId !== undefined && Number(n.dataset.messageId) < id) break;
      before = n;
    }
    list.insertBefore(li, before);
  }

  function setMessageState(li, text) {
    const s = li.querySelector('.msg-state');
    if (!s) return;
    s.textContent = text;
    s.classList.toggle('read', text === 'read');
    li.dataset.state = text;
  }

  function updateHistoryStatus(r) {
    let text = 'beginning of the conversation';
    if (r.loadingOlder) text = 'loading older messages…';
    else if (r.hasMore) text = 'scroll up for older messages';
    else if (r.shown.size === 0) text = 'no messages yet: say hello';
    $('history-status').textContent = text;
  }

  // Scrolling to the top loads the page before the oldest message shown.
  async function loadOlder(r) {
    if (!r.ready || !r.hasMore || r.loadingOlder) return;
    r.loadingOlder = true;
    updateHistoryStatus(r);
    const box = $('messages-box');
    try {
      const page = await api('GET', `/api/chat/rooms/${r.id}/messages?before=${r.oldestId}&limit=${PAGE}`);
      if (state.room !== r) return;
      const height = box.scrollHeight;
      for (const m of page.messages) addMessage(r, m);
      box.scrollTop += box.scrollHeight - height;
      r.hasMore = page.hasMore;
    } catch (e) {
      showError(`Older messages: ${e.message}`);
    } finally {
      r.loadingOlder = false;
      if (state.room === r) updateHistoryStatus(r);
    }
    fillViewport(r);
  }

  // Without a scroll bar there is no scrolling to the top: load until there is one.
  function fillViewport(r) {
    const box = $('messages-box');
    if (state.room === r && r.hasMore && box.scrollHeight <= box.clientHeight) loadOlder(r);
  }

  function onMessagesScroll() {
    if (state.room && $('messages-box').scrollTop < 60) loadOlder(state.room);
  }

  function isNearBottom() {
    const box = $('messages-box');
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }

  function scrollToBottom() {
    const box = $('messages-box');
    box.scrollTop = box.scrollHeight;
  }

  // ---------------------------------------------------------------------------------------------
  // Read marks

  // Marks everything shown as read, once the page is visible and connected.
  function scheduleRead(r) {
    clearTimeout(r.readTimer);
    r.readTimer = setTimeout(() => {
      if (state.room !== r || !state.connected || document.visibilityState !== 'visible') return;
      if (r.newestId <= r.readSent) return;
      r.readSent = r.newestId;
      send(`/pub/chat/read/${r.id}`, {}, { lastReadMessageId: r.newestId });
      const room = state.rooms.get(r.id);
      if (room && room.unreadCount) {
        room.unreadCount = 0;
        renderRooms();
      }
    }, 300);
  }

  function onRead(r, frame) {
    const m = parseJson(frame.body);
    if (state.room !== r || !m || m.userId === state.me.userId) return;
    r.otherRead = Math.max(r.otherRead, m.lastReadMessageId);
    for (const [id, li] of r.shown) {
      if (id <= r.otherRead && li.classList.contains('mine')) setMessageState(li, 'read');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Typing

  function onComposerInput() {
    const r = state.room;
    if (!r || !state.connected) return;
    const now = Date.now();
    if (!state.typing.on || now - state.typing.sentAt > TYPING_REFRESH_MS) {
      send(`/pub/chat/typing/${r.id}`, {}, { typing: true });
      state.typing.on = true;
      state.typing.sentAt = now;
    }
    clearTimeout(state.typing.idleTimer);
    state.typing.idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typing.idleTimer);
    if (state.typing.on && state.room && state.connected) {
      send(`/pub/chat/typing/${state.room.id}`, {}, { typing: false });
    }
    state.typing.on = false;
  }

  function onTyping(r, frame) {
    const m = parseJson(frame.body);
    if (state.room !== r || !m || m.userId === state.me.userId) return;
    if (!m.typing) {
      hideTyping(r);
      return;
    }
    const who = r.names.get(m.userId) || peerLabel(state.rooms.get(r.id)) || `user ${m.userId}`;
    $('typing').textContent = `${who} is typing…`;
    clearTimeout(r.typingTimer);
    r.typingTimer = setTimeout(() => hideTyping(r), TYPING_SHOWN_MS);
  }

  function hideTyping(r) {
    clearTimeout(r.typingTimer);
    if (state.room === r) $('typing').textContent = '';
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  // SEND with a JSON body; false when there is no connection (the caller keeps what must be resent).
  function send(destination, headers, body) {
    if (!state.connected || !state.client) return false;
    try {
      state.client.send(destination, headers, JSON.stringify(body));
      return true;
    } catch {
      return false;  // the socket is closing; onclose follows
    }
  }

  // Files: uploaded as soon as they are picked or dropped, sent with the next message.
  async function uploadFiles(files) {
    const r = state.room;
    if (!r) return;
    for (const file of files) {
      const chip = el('span', { class: 'file-chip staged-chip', 'data-testid': 'staged-file', text: `⏳ ${file.name}` });
      $('staged').append(chip);
      try {
        const res = await fetch(`/api/chat/rooms/${r.id}/attachments?name=${encodeURIComponent(file.name)}`, {
          method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' }, credentials: 'same-origin',
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
        if (state.room !== r) { chip.remove(); return; }
        state.staged.push(body);
        chip.textContent = `${body.thumbnailUrl ? '📷' : '📎'} ${file.name}`;
        chip.dataset.ready = 'true';
      } catch (e) {
        chip.remove();
        showError(`${file.name}: ${e.message}`);
      }
    }
  }

  function clearStaged() {
    state.staged = [];
    $('staged').replaceChildren();
  }

  function onDrop(ev) {
    ev.preventDefault();
    if (ev.dataTransfer && ev.dataTransfer.files.length) uploadFiles([...ev.dataTransfer.files]);
  }

  function onComposerSubmit(ev) {
    ev.preventDefault();
    const r = state.room;
    const text = $('message-input').value.trim();
    const files = state.staged;
    if (!r || (!text && !files.length)) return;
    if ([...text].length > 4000) {
      showError('A message has at most 4000 characters.');
      return;
    }
    const id = newId();
    const p = { clientMessageId: id, roomId: r.id, text, attachments: files.map((a) => a.attachmentId), receipt: `msg-${id}`, el: null };
    const draft = { messageId: 0, senderId: state.me.userId, messageText: text, sendAt: new Date().toISOString(), attachments: files };
    clearStaged();
    p.el = messageElement(draft, true);
    delete p.el.dataset.messageId;
    p.el.dataset.clientMessageId = id;
    p.el.classList.add('pending');
    setMessageState(p.el, 'sending…');
    state.pending.set(id, p);
    $('messages').append(p.el);
    scrollToBottom();
    $('message-input').value = '';
    stopTyping();
    transmit(p);
  }

  // Sends (or, after a reconnect, resends) a pending message: the server stores a clientMessageId
  // once, so a resend of a message that did get through is not shown twice.
  function transmit(p) {
    send(`/pub/chat/send/${p.roomId}`, { receipt: p.receipt }, {
      roomId: p.roomId,
      messageText: p.text,
      sendAt: new Date().toISOString(),
      clientMessageId: p.clientMessageId,
      ...(p.attachments.length ? { attachments: p.attachments } : {}),
    });
  }

  function onComposerKey(ev) {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition (Korean,
    // Japanese...) only commits the text.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  }

  // ---------------------------------------------------------------------------------------------

  function init() {
    $('login-form').addEventListener('submit', onLoginSubmit);
    $('logout').addEventListener('click', onLogout);
    $('refresh-rooms').addEventListener('click', loadRooms);
    $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); runSearch(false); });
    $('search-more').addEventListener('click', () => runSearch(true));
    $('search-close').addEventListener('click', closeSearch);
    $('new-room-form').addEventListener('submit', onNewRoomSubmit);
    $('composer').addEventListener('submit', onComposerSubmit);
    $('message-input').addEventListener('input', onComposerInput);
    $('message-input').addEventListener('keydown', onComposerKey);
    $('messages-box').addEventListener('scroll', onMessagesScroll);
    $('messages').addEventListener('click', onMessagesClick);
    $('attach-button').addEventListener('click', () => $('attach-input').click());
    $('attach-input').addEventListener('change', (ev) => { uploadFiles([...ev.target.files]); ev.target.value = ''; });
    for (const zone of [$('messages-box'), $('composer')]) {
      zone.addEventListener('dragover', (ev) => ev.preventDefault());
      zone.addEventListener('drop', onDrop);
    }
    document.addEventListener('visibilitychange', () => { if (state.room) scheduleRead(state.room); });
    // Back on the network: no need to wait for the backoff.
    window.addEventListener('online', () => { if (state.me && !state.connected) connect(); });
    window.barkDemo = { state, simulateDrop };
    if (typeof SockJS === 'undefined' || typeof Stomp === 'undefined') {
      showError('sockjs.min.js or stomp.min.js did not load (/vendor/).');
      return;
    }
    restore();
  }

  init();
}());
