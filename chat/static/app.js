// Sori room chat page. Plain JS, no framework.
// Everything people type is rendered with textContent, never innerHTML.
(() => {
  "use strict";

  const LIMITS = { nickname: 32, room: 64, message: 2000 };

  const $ = (sel, root = document) => root.querySelector(sel);

  const welcome = $("#welcome");
  const roomForm = $("form", welcome);
  const roomInput = $("input", roomForm);
  const roomList = $("ul", welcome);
  const roomEmpty = $(".empty", welcome);
  const welcomeError = $(".error", welcome);

  const room = $("#room");
  const title = $("h3", room);
  const messages = $("ul", room);
  const nameForm = $("#name", room);
  const nameInput = $("input", nameForm);
  const meName = $(".me-name", nameForm);
  const msgForm = $("#msg", room);
  const msgInput = $("input", msgForm);
  const roomError = $(".error", room);
  const leaveButton = $("#leave");

  const banner = $("#status");
  const bannerText = $("#status-text");
  const reconnectButton = $("#reconnect");
  const conn = $("#conn");

  // Reconnection is the client's default behaviour; we only re-join.
  const socket = io();

  let roomName = null; // the room we are in (null on the welcome screen)
  let nickname = null; // what we set; null = server default ("Anon")
  let count = null; // members in our room, when known
  let ready = false; // connected and (re)joined

  // ---------- helpers ----------

  function clean(value, max) {
    const v = String(value ?? "").trim();
    const n = [...v].length;
    return n >= 1 && n <= max ? v : null;
  }

  function showError(el, text) {
    el.textContent = text || "";
    el.hidden = !text;
  }

  function isError(res) {
    return res && typeof res === "object" && typeof res.error === "string";
  }

  function addMessage(text, kind = "other") {
    const li = document.createElement("li");
    li.className = kind;
    if (kind === "other") {
      // "nickname: msg" -> bold name; textContent of the li stays the exact text.
      const i = text.indexOf(": ");
      if (i > 0) {
        const who = document.createElement("b");
        who.className = "who";
        who.textContent = text.slice(0, i + 1);
        li.append(who, document.createTextNode(text.slice(i + 1)));
      } else {
        li.textContent = text;
      }
    } else {
      li.textContent = text;
    }
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 48;
    messages.appendChild(li);
    if (atBottom || kind === "mine") messages.scrollTop = messages.scrollHeight;
  }

  function renderTitle() {
    if (roomName === null) return;
    title.textContent = count ? `Room ${roomName} (${count})` : `Room ${roomName}`;
    document.title = `${roomName} · Sori Chat`;
  }

  function renderMe() {
    meName.textContent = nickname ?? "Anon";
  }

  function showWelcome() {
    roomName = null;
    count = null;
    room.hidden = true;
    welcome.hidden = false;
    messages.replaceChildren();
    showError(roomError, "");
    document.title = "Sori Chat";
    roomInput.focus();
  }

  function showRoom(name) {
    roomName = name;
    welcome.hidden = true;
    room.hidden = false;
    showError(welcomeError, "");
    renderTitle();
    renderMe();
    msgInput.focus();
  }

  function setOnline(online, text) {
    banner.hidden = online;
    if (text) bannerText.textContent = text;
    conn.dataset.state = online ? "online" : "offline";
    conn.textContent = online ? "online" : "offline";
    document.body.classList.toggle("offline", !online);
  }

  // ---------- room list ----------

  // `rooms` ([{name, count}]) carries counts; `room_change` (names only) is
  // the seed's event: use it as a fallback if a server does not send `rooms`.
  let gotRooms = false;

  function renderRooms(list) {
    const items = list.map(({ name, count: n }) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "room-link";
      button.dataset.room = name;
      button.title = `Enter ${name}`;
      const label = document.createElement("span");
      label.className = "room-name";
      label.textContent = name;
      button.append(label);
      if (typeof n === "number") {
        const badge = document.createElement("span");
        badge.className = "count";
        badge.textContent = String(n);
        badge.title = `${n} ${n === 1 ? "person" : "people"}`;
        button.append(badge);
      }
      li.append(button);
      return li;
    });
    roomList.replaceChildren(...items);
    roomEmpty.hidden = items.length > 0;
  }

  socket.on("room_change", (names) => {
    if (!gotRooms && Array.isArray(names)) renderRooms(names.map((name) => ({ name })));
  });

  socket.on("rooms", (list) => {
    if (!Array.isArray(list)) return;
    gotRooms = true;
    renderRooms(list);
    const mine = roomName !== null && list.find((r) => r.name === roomName);
    if (mine) {
      count = mine.count;
      renderTitle();
    }
  });

  roomList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-room]");
    if (button) enterRoom(button.dataset.room);
  });

  // ---------- entering / leaving ----------

  function enterRoom(raw) {
    const name = clean(raw, LIMITS.room);
    if (name === null) {
      showError(welcomeError, `Room names are 1–${LIMITS.room} characters.`);
      return;
    }
    if (!socket.connected) {
      showError(welcomeError, "You are offline; wait for the connection to come back.");
      return;
    }
    socket.emit("enter_room", name, (res) => {
      if (isError(res)) {
        showError(welcomeError, res.error);
        return;
      }
      ready = true;
      messages.replaceChildren();
      count = null;
      showRoom(name);
      addMessage(`You joined ${name}`, "system");
    });
  }

  roomForm.addEventListener("submit", (event) => {
    event.preventDefault();
    enterRoom(roomInput.value);
    roomInput.value = "";
  });

  leaveButton.addEventListener("click", () => {
    const name = roomName;
    if (name === null) return;
    if (socket.connected) socket.emit("leave_room", name, () => {});
    showWelcome();
  });

  // ---------- nickname ----------

  nameForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = clean(nameInput.value, LIMITS.nickname);
    if (name === null) {
      showError(roomError, `Nicknames are 1–${LIMITS.nickname} characters.`);
      return;
    }
    socket.emit("nickname", name, (res) => {
      if (isError(res)) {
        showError(roomError, res.error);
        return;
      }
      nickname = name;
      try {
        localStorage.setItem("sori.nickname", name);
      } catch {
        /* storage may be unavailable */
      }
      showError(roomError, "");
      renderMe();
      addMessage(`You are now ${name}`, "system");
    });
    nameInput.value = "";
  });

  // ---------- messages ----------

  msgForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = clean(msgInput.value, LIMITS.message);
    if (text === null) {
      showError(roomError, `Messages are 1–${LIMITS.message} characters.`);
      return;
    }
    if (!socket.connected || !ready) {
      // Keep the text; the client would otherwise buffer it and send it
      // before we have re-joined the room.
      showError(roomError, "Offline — your message was not sent.");
      return;
    }
    const name = roomName;
    socket.emit("new_message", text, name, (res) => {
      if (isError(res)) {
        showError(roomError, res.error);
        return;
      }
      showError(roomError, "");
      if (name === roomName) addMessage(`You: ${text}`, "mine");
    });
    msgInput.value = "";
  });

  socket.on("new_message", (text) => addMessage(String(text), "other"));

  socket.on("welcome", (user, newCount) => {
    count = newCount;
    renderTitle();
    addMessage(`${user} arrived!`, "system arrive");
  });

  socket.on("bye", (user, newCount) => {
    count = newCount;
    renderTitle();
    addMessage(`${user} left`, "system leave");
  });

  // ---------- connection state ----------

  try {
    nickname = clean(localStorage.getItem("sori.nickname"), LIMITS.nickname);
  } catch {
    nickname = null;
  }
  renderMe();

  socket.on("connect", () => {
    setOnline(true);
    reconnectButton.hidden = true;
    showError(welcomeError, "");
    if (nickname !== null) socket.emit("nickname", nickname, () => {});
    if (roomName === null) {
      ready = true;
      return;
    }
    // Re-join the room we were in before the connection dropped.
    const name = roomName;
    socket.emit("enter_room", name, (res) => {
      if (isError(res)) {
        showWelcome();
        showError(welcomeError, res.error);
        return;
      }
      ready = true;
      showError(roomError, "");
      addMessage("Reconnected", "system");
    });
  });

  socket.on("disconnect", (reason) => {
    ready = false;
    if (reason === "io server disconnect" || reason === "io client disconnect") {
      // The client does not reconnect by itself in these two cases.
      setOnline(false, "Disconnected from the server.");
      reconnectButton.hidden = false;
    } else {
      setOnline(false, "Offline — reconnecting…");
    }
    if (roomName !== null) addMessage("Connection lost", "system");
  });

  socket.io.on("reconnect_attempt", (n) => {
    setOnline(false, `Offline — reconnecting (attempt ${n})…`);
  });

  socket.on("connect_error", () => {
    if (!socket.active) {
      setOnline(false, "Could not connect to the server.");
      reconnectButton.hidden = false;
    }
  });

  reconnectButton.addEventListener("click", () => {
    reconnectButton.hidden = true;
    setOnline(false, "Reconnecting…");
    socket.connect();
  });
})();
