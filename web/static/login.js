// Login page: POST /api/v1/session, then the role's home page.
import { api, currentSession, homeFor, showMessage } from '/static/common.js';

const form = document.getElementById('login-form');
const errorBox = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

async function onSubmit(event) {
  event.preventDefault();
  showMessage(errorBox, '');
  const username = document.getElementById('username').value.trim();
  const password = document.getElementById('password').value;
  if (!username || !password) {
    showMessage(errorBox, 'Enter your user name and password.');
    return;
  }
  submit.disabled = true;
  try {
    const s = await api('POST', '/api/v1/session', { username, password });
    location.replace(homeFor(s.user.role));
  } catch (e) {
    let message = e.message;
    if (e.status === 401) message = 'Wrong user name or password.';
    else if (e.status === 429) message = 'Too many failed attempts. Wait a minute and try again.';
    showMessage(errorBox, message);
    document.getElementById('password').value = '';
    document.getElementById('password').focus();
  } finally {
    submit.disabled = false;
  }
}

form.addEventListener('submit', onSubmit);
submit.disabled = false;  // enabled only once the handler is in place (no native form post)

// Already signed in: straight to the home page.
currentSession().then((s) => {
  if (s) location.replace(homeFor(s.user.role));
}).catch(() => {});
