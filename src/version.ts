/** llmzip's version, printed by --version and recorded nowhere in archives (the format has its own version). */
export const VERSION = "0.1.0";
