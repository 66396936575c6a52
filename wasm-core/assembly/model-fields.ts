// Field ids (500-599) and anomaly ids (500-599) of the model engine.

export function modelFieldName(id: u16): string {
  switch (id) {
  }
  return "";
}

export function modelAnomalyName(id: u16): string {
  switch (id) {
  }
  return "";
}
