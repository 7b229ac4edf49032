"""The recap's evaluation set: chats with the themes and groups a careful host named."""
